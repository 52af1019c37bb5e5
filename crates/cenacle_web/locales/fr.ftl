# Mots français des pages web. Chaque clé est aussi dans en.ftl, dans le même ordre.
skip-to-content = Aller au contenu
nav-main = Menu principal
nav-groups = Groupes
sign-out = Se déconnecter
sign-in = Se connecter
sign-up = Créer un compte
other-language = English
footer = Une communauté Cénacle, membre du fédivers.
back-home = Retour à l’accueil
session-expired = Votre session a expiré. Reconnectez-vous pour reprendre là où vous étiez.
field-username = Nom d’utilisateur
field-password = Mot de passe
no-account = Pas encore de compte ?
field-email = Courriel (facultatif)
field-invite = Code d’invitation (si vous en avez un)
field-reason = Pourquoi vous souhaitez nous rejoindre (si la communauté le demande)
field-welcome-post = Me souhaiter la bienvenue par mon nom dans le groupe d’accueil
registered-pending = Votre compte attend l’approbation d’un responsable de la communauté. Vous pourrez vous connecter une fois approuvé.
no-groups = Aucun groupe pour l’instant.
visibility-restricted = les membres publient, tout le monde lit
visibility-private = privé
ask-question = Poser une question
join-group = Rejoindre ce groupe
sign-in-to-take-part = Connectez-vous pour participer
sort = Tri
sort-new = Récents
sort-top = Meilleurs
sort-active = Actifs
no-posts = Rien pour l’instant : soyez le premier à demander.
pinned = Épinglé
solved = Résolu
field-kind = Type
kind-question = Question ouverte
kind-idea = Idée
kind-note = Note
field-title = Titre
field-body = Détails (Markdown)
field-tags = Étiquettes (séparées par des virgules)
field-image = Image (facultative)
field-image-description = Décrivez l’image pour qui ne peut pas la voir
markdown-hint = Markdown : **gras**, *italique*, [lien](https://…), listes, `code`.
preview = Aperçu
preview-heading = Aperçu
attached-images = Images jointes
invalid-file_too_large = Ce fichier est trop volumineux.
invalid-unsupported_type = Envoyez une image PNG, JPEG, GIF ou WebP.
invalid-type_mismatch = Ce fichier n’est pas le type d’image que son nom indique.
publish = Publier
accepted-answer = Réponse acceptée
official-answer = Réponse officielle
accept-answer = Accepter cette réponse
no-answers = Pas encore de réponse.
your-answer = Votre réponse
field-answer = Réponse (Markdown)
post-answer = Publier la réponse
sign-in-to-answer = Connectez-vous pour répondre
answers-count = { $count ->
    [one] { $count } réponse
   *[other] { $count } réponses
}
score = { $count ->
    [one] { $count } point de vote
   *[other] { $count } points de vote
}
not-found-heading = Page introuvable
not-found = Cette page n’existe pas, ou vous ne pouvez pas la voir.
error-heading = Une erreur est survenue
csrf-refused = Ce formulaire a expiré. Revenez en arrière, rechargez la page et renvoyez-le.
reputation = Réputation
rank = Rang
accepted-answers = Réponses acceptées
likes-received = J’aime reçus
reward-points = Points de récompense
home-reputation = Réputation sur son instance d’origine
badges = Badges obtenus
no-badges = Pas encore de badge.
my-profile = Mon profil
feeds = Fils
feed-home = Mes groupes
feed-instance = Tout ici
idea-board = Tableau des idées
idea-status = Statut :
status-history = Historique des statuts
move-idea-to = Passer l’idée à
status-comment = Commentaire public (facultatif)
change-status = Changer le statut
status-submitted = Proposée
status-under_review = À l’étude
status-planned = Prévue
status-in_progress = En cours
status-done = Réalisée
status-declined = Refusée
status-duplicate = Doublon
search = Rechercher
search-words = Mots à chercher
search-tag = Étiquette
search-unanswered = Seulement les questions sans réponse acceptée
search-results = { $count ->
    [one] { $count } résultat
   *[other] { $count } résultats
}
kind-any = Tous
follow-remote = Suivre un groupe d’un autre serveur
follow-handle = Son adresse (!nom@serveur, nom@serveur ou son URL)
follow = Suivre
follow-failed = Cette adresse ne mène à aucun groupe joignable. Vérifiez-la et réessayez.
invalid-field = Ce champ n’est pas valide.
invalid-empty = Ce champ ne peut pas être vide.
invalid-too_long = Trop long : raccourcissez-le.
invalid-too_short = Trop court.
invalid-too_many = Trop nombreux.
invalid-invalid_characters = Utilisez seulement des minuscules, des chiffres et _.
invalid-same_as_username = Le mot de passe ne doit pas être le nom d’utilisateur.
invalid-too_simple = Trop simple : choisissez une phrase de passe plus longue.
invalid-invalid_email = Ce n’est pas une adresse de courriel.
invalid-reserved = Ce nom est réservé.
join-requested = Votre demande a été transmise aux modérateurs du groupe.
group-private = Ce groupe est privé : seuls ses membres voient ce qu’il contient.
ask-to-join = Demander à rejoindre
removed-by-moderator = Retiré par un modérateur :
removal-reason = Raison du retrait
remove = Retirer
restore = Rétablir

# Widgets sur le site de l’organisation
widget-latest-answers = Dernières réponses de la communauté
widget-no-answers = Pas encore de réponse : posez la première question.
widget-see-community = Voir la communauté
widget-ask = Demander à la communauté
widget-ask-button = Demander
widget-ask-hint = Ouvre la communauté dans une nouvelle fenêtre, où vous vous connectez si besoin.

# Votes et primes
like-post = J’aime cette question
dislike-post = Je n’aime pas cette question
like-answer = J’aime cette réponse
dislike-answer = Je n’aime pas cette réponse
bounty = Prime
bounty-points = { $count ->
    [one] { $count } point
   *[other] { $count } points
}
bounty-open = ouverte
bounty-closed = terminée
bounty-until = jusqu’au
bounty-amount = Points offerts
bounty-days = Jours
bounty-offer = Offrir une prime
bounty-hint = Vos points sont réservés dès maintenant ; la meilleure réponse les gagne à la fin de la prime, ou celle que vous récompensez.
bounty-award = Attribuer la prime

# Classement
nav-leaderboard = Classement
leaderboard = Classement
board-periods = Période
board-week = Cette semaine
board-month = Ce mois-ci
board-year = Cette année
board-all = Depuis le début
board-empty = Personne n’a encore gagné de réputation sur cette période.
board-rank = Rang
board-member = Membre

# Demandes d’adhésion
join-requests = Demandes d’adhésion
no-join-requests = Aucune demande en attente.
approve = Accepter
decline = Refuser

# Administration
nav-admin = Administrer
admin-accounts = Comptes
admin-instances = Autres instances
admin-filter = Afficher
admin-all-accounts = Tous les comptes
admin-pending-accounts = En attente de validation
admin-no-accounts = Aucun compte ici.
admin-role = Rôle
admin-change-role = Modifier
admin-registration = Inscription
admin-active = actif
role-admin = Administrateur ou administratrice
role-community_manager = Animation de la communauté
role-moderator = Modération
role-staff = Équipe de la marque
role-member = Membre
admin-block-host = Bloquer une instance (son nom d’hôte)
admin-block = Bloquer
admin-unblock = Débloquer
admin-blocked = bloquée
admin-limit = Limiter
admin-unlimit = Lever la limite
admin-limited = limitée : ses messages attendent une validation
admin-no-instances = Aucune autre instance connue pour l’instant.
admin-host = Nom de l’instance
admin-state = Traitement
admin-weight = Poids de ses votes (0 à 10)
admin-save = Enregistrer
admin-unreachable = injoignable
admin-invite = Créer une invitation
admin-invite-made = Donnez ce code à la personne invitée (il n’est affiché qu’une fois) :
admin-invite-expires = valable jusqu’au

# Boutique
nav-shop = Boutique
shop = Boutique de cadeaux
shop-balance = Vos points :
shop-my-orders = Mes commandes
shop-empty = La boutique est encore vide.
shop-out-of-stock = épuisé
shop-unlimited = toujours disponible
shop-left = { $count ->
    [one] { $count } restant
   *[other] { $count } restants
}
shop-address = Adresse de livraison (effacée après la livraison)
shop-redeem = Échanger
shop-no-orders = Aucune commande pour l’instant.
shop-your-code = Votre code :
shop-held = retenus par vos enchères :
shop-available = disponibles :
shop-edit = Modifier cette récompense
shop-name-en = Nom (anglais)
shop-name-fr = Nom (français)
shop-description-en = Description (anglais)
shop-description-fr = Description (français)
shop-price = Prix en points
shop-limit-per-member = Commandes au plus par membre (vide : sans limite)
shop-limit-per-period = Commandes au plus par membre et par période (vide : sans limite)
shop-limit-period = Période
shop-period-day = par jour
shop-period-week = par semaine
shop-period-month = par mois
shop-available-from = Disponible à partir du (UTC, vide : dès maintenant)
shop-available-until = Disponible jusqu’au (UTC, vide : sans fin)
shop-save = Enregistrer
shop-restock-quantity = Unités à ajouter
shop-restock = Réapprovisionner
# Enchères de points
auctions = Enchères de points
auctions-intro = Misez vos points sur des récompenses rares : votre mise est bloquée jusqu'à ce que quelqu'un enchérisse plus (elle vous revient aussitôt) ou que l'enchère se termine.
auctions-empty = Aucune enchère en cours.
auction-leading = Meilleure offre :
auction-starting = Mise de départ :
auction-ends = Fin
auction-you-lead = Vous menez cette enchère.
auction-put-up = Mettre une récompense aux enchères
auction-reward = Récompense
auction-ends-at = Fin le (UTC)
auction-starting-price = Mise de départ en points
auction-min-increment = Plus petite surenchère en points (vide : 1)
auction-reserve = Prix de réserve en points (vide : aucun ; caché aux membres)
auction-put-up-button = Lancer l'enchère
auction-state = État
auction-reserve-unmet = (réserve non atteinte)
auction-your-bid = Votre offre en points
auction-available = Vos points libres pour enchérir :
auction-bid = Enchérir
auction-next-minimum = Plus petite offre possible :
auction-cancel = Annuler cette enchère
auction-bids = Offres
auction-no-bids = Aucune offre pour l'instant.
auction-bid-yours = vous
auction-bid-other = un membre
auction-status-open = en cours
auction-status-won = adjugée
auction-status-unsold = invendue
auction-status-cancelled = annulée
bid-status-leading = en tête
bid-status-outbid = dépassée
bid-status-won = gagnante
bid-status-lost = perdante
bid-status-cancelled = annulée
invalid-not_after_start = La fin doit venir après le début, dans le futur.
# Programme des champions (côté membre)
champion-programme = Programme des champions
champion-status-none = Vous ne faites pas partie du programme des champions. Les community managers y invitent les membres qui aident le plus.
champion-status-invited = Vous êtes invité·e à devenir champion·ne de cette communauté.
champion-status-declined = Vous avez décliné l'invitation.
champion-status-pending_charter = Dernière étape : lisez et acceptez la charte des champions.
champion-status-active = Vous êtes champion·ne. Merci !
champion-status-exited = Vous avez quitté le programme des champions.
champion-your-title = Votre titre :
champion-invited-groups = Les groupes dont vous seriez champion·ne :
champion-reason-optional = Un mot pour les community managers (facultatif)
champion-accept = Accepter l'invitation
champion-decline = Décliner
champion-charter = La charte des champions
champion-tools-suspended = Une nouvelle version de la charte vous attend : vos outils de champion sont en pause jusqu'à ce que vous l'acceptiez.
champion-accept-charter = J'accepte la charte
champion-groups = Vos groupes
champion-no-groups = Aucun groupe pour l'instant.
champion-since = depuis le
champion-objectives = Objectifs du mois
champion-metric-answers_per_month = Réponses :
champion-metric-accepted_answers_per_month = Réponses acceptées :
champion-objective-met = atteint
champion-renewal-due = Revue annuelle prévue le :
champion-leave = Quitter le programme
champion-leave-button = Quitter le programme des champions
champion-exit-reason = Raison donnée :
account-champion-link = Programme des champions
# Concours
contests = Concours
contests-empty = Aucun concours pour l'instant.
contest-running = en cours
contest-closed = clos
contest-open = Ouvrir un concours
contest-title = Titre
contest-starts-at = Début (UTC, vide : maintenant)
contest-ends-at = Fin (UTC)
contest-groups = Groupes (noms séparés par des virgules ; vide : tous les groupes)
contest-open-button = Ouvrir le concours
contest-board = Classement en direct
contest-winners = Gagnants
contest-close = Clore le concours
contest-prizes = Points pour les rangs 1, 2, 3… (par ex. 100, 50, 20)
contest-close-button = Clore et verser les prix
invalid-before_start = La fin doit venir après le début.
invalid-invalid = Cette valeur n'est pas valide.
order-requested = demandée
order-approved = acceptée
order-shipped = expédiée
order-delivered = livrée
order-refused = refusée (points rendus)
order-cancelled = annulée (points rendus)

# Signalements
report = Signaler
report-link = Signaler
report-what-post = Vous signalez cette publication aux modérateurs du groupe.
report-what-comment = Vous signalez cette réponse aux modérateurs du groupe.
report-what-person = Vous signalez cette personne aux modérateurs de la communauté.
report-reason = Motif
report-text = Ce que les modérateurs doivent savoir (facultatif)
report-share = Les modérateurs d'autres serveurs peuvent voir mon nom
report-share-hint = Case non cochée, notre communauté envoie le signalement en son propre nom.
report-send = Envoyer le signalement
my-reports = Mes signalements
no-reports = Aucun signalement.
reports-queue = Signalements
reports-queue-instance = Signalements à la communauté
report-statuses = Signalements par état
report-status-open = en attente
report-status-resolved = traité
report-status-dismissed = classé sans suite
reported-by = signalé par
report-note = Note pour l'auteur du signalement
report-ban = Bannir la personne du groupe
report-ban-days = Pour combien de jours (vide : définitivement)
report-resolve = Traiter
report-dismiss = Classer sans suite
invalid-out_of_range = Cette valeur est hors des limites.
bad-request = Cette demande ne vient pas de la page : revenez en arrière et réessayez depuis la page.

# File d'approbation
approval-queue = Publications en attente d'approbation
no-pending-posts = Aucune publication n'attend.
rejection-reason = Motif donné à l'auteur (en cas de refus)
reject = Refuser
approval-settings = Quelles publications attendent
approval-enabled = Retenir les publications pour approbation par un modérateur
approval-first-posts = Premières publications d'un membre qui attendent (0 : aucune)
approval-min-reputation = Les publications des membres sous cette réputation attendent (0 : aucune)
post-pending = Cette publication attend l'approbation d'un modérateur : seuls vous et les modérateurs la voyez.
post-rejected = Non publiée par les modérateurs :

# Propositions de groupes
proposals = Groupes proposés
proposals-intro = Les membres proposent les groupes qui leur manquent ; dès qu'assez de membres en soutiennent un, il ouvre, avec son auteur comme propriétaire et ses soutiens invités.
no-proposals = Aucun groupe proposé pour l'instant.
proposal-backers = { $count ->
    [one] { $count } soutien
   *[other] { $count } soutiens
}
proposal-open = en quête de soutiens
proposal-created = ouvert
proposal-declined = refusé
proposal-back = Soutenir ce groupe
propose-group = Proposer un groupe
proposal-name = Nom court (minuscules, chiffres et _)
proposal-purpose = À quoi il sert
propose = Proposer
invalid-already_published = Ce formulaire a déjà été publié. Publiez à nouveau pour en faire une nouvelle question.


# Courriel et compte
invalid-email_required = Cette communauté demande une adresse électronique à confirmer.
forgot-password = Mot de passe oublié ?
forgot-intro = Indiquez l’adresse électronique de votre compte : nous y envoyons un lien pour choisir un nouveau mot de passe.
field-account-email = Adresse électronique
send-link = Envoyer le lien
forgot-sent = Si un compte utilise cette adresse, un lien pour choisir un nouveau mot de passe est en route. Il ne sert qu’une fois, pendant un temps limité.
reset-password = Choisir un nouveau mot de passe
field-new-password = Nouveau mot de passe (10 caractères au moins)
reset-done = Votre mot de passe est changé et toutes les sessions sont fermées. Connectez-vous avec le nouveau.
verify-email = Confirmer votre adresse
verify-intro = Confirmez que cette adresse électronique est bien la vôtre.
verify-button = Confirmer mon adresse
verify-done = Votre adresse est confirmée. Merci !
confirm-email = Confirmer votre nouvelle adresse
confirm-email-intro = Confirmez que le courrier de votre compte doit désormais aller à cette adresse.
confirm-email-done = Votre nouvelle adresse est confirmée : le courrier y va désormais.
unsubscribe = Ne plus recevoir ces messages
unsubscribe-intro = Ne plus recevoir ce type de message. Les messages sur votre compte lui-même (mot de passe, adresse) continuent d’arriver.
unsubscribe-done = C’est fait : ce type de message n’arrivera plus.
nav-account = Compte
account = Mon compte
account-no-email = Pas encore d’adresse électronique.
account-verified = confirmée
account-unverified = pas encore confirmée
change-email = Changer mon adresse électronique
field-new-email = Nouvelle adresse électronique
field-current-password = Mot de passe actuel
change-email-sent = Un lien est parti vers la nouvelle adresse : le changement se fait quand il est suivi. L’ancienne adresse a été prévenue.
# Notifications
nav-notifications = Mes notifications
notifications-title = Vos notifications
notifications-empty = Rien de nouveau pour vous pour l'instant.
notifications-unread = non lues
notifications-unread-only = Non lues seulement
notifications-everything = Toutes
notifications-mark-read = Marquer comme lue
notifications-mark-all-read = Tout marquer comme lu
notif-reply = a répondu à
notif-answer-accepted = a accepté votre réponse à
notif-like = { $count ->
    [one] a aimé votre contribution à
   *[other] et d'autres ({ $count } personnes) ont aimé votre contribution à
}
notif-idea-status = a changé le statut de
notif-badge-awarded = Vous avez reçu un badge :
notif-join-approved = a accepté votre demande d'adhésion à
notif-join-declined = a refusé votre demande d'adhésion à
notif-moderation-removed = a retiré votre contribution à
notif-moderation-restored = a rétabli votre contribution à
notif-moderation-resolved = a donné suite à votre signalement sur
notif-moderation-dismissed = a classé votre signalement sur
notif-accept-reminder = Votre question a des réponses, aucune acceptée : acceptez celle qui vous a aidé.
notif-hidden-post = une publication que vous ne pouvez plus voir
account-title = Mon compte
preferences-title = Préférences de notification
preferences-save = Enregistrer les préférences
preferences-saved = Préférences enregistrées.
kind-reply = Réponses à mes publications et commentaires
kind-answer-accepted = Ma réponse acceptée
kind-like = Mentions « j'aime » sur mes contributions
kind-idea-status = Statut des idées que j'ai proposées ou soutenues
kind-badge-awarded = Badges qui me sont décernés
kind-join-request = Décisions sur mes demandes d'adhésion à un groupe
kind-moderation = Modération de mes contributions et signalements
kind-accept-reminder = Rappels d'accepter une réponse
delivery-in-app = Dans l'application seulement
delivery-email-immediate = Par courriel tout de suite, et dans l'application
delivery-email-daily = Dans le résumé quotidien par courriel, et dans l'application
delivery-email-weekly = Dans le résumé hebdomadaire par courriel, et dans l'application
delivery-off = Désactivé : ne pas me prévenir
welcome-title = Bien démarrer
welcome-from = Un mot de
welcome-dismiss = Masquer cet accueil
journey-title = Vos premiers pas
journey-done = fait
journey-points = points
step-complete-profile = Complétez votre profil (nom, présentation, photo)
step-join-group = Rejoignez un groupe
step-answer-question = Répondez à une question
step-post-idea = Proposez une idée
step-ask-question = Posez une question
step-like-contributions = Aimez des contributions
nav-welcome = Bien démarrer
