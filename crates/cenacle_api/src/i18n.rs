//! User-facing API messages in French and English. The error `code` is the stable contract;
//! the `message` is for people, in the language the request asked for (`Accept-Language`).

use cenacle_domain::Language;

tokio::task_local! {
    static REQUEST_LANGUAGE: Language;
}

/// Runs `fut` with the request's language available to error responses built inside it.
pub async fn with_language<F: std::future::Future>(language: Language, fut: F) -> F::Output {
    REQUEST_LANGUAGE.scope(language, fut).await
}

pub fn current_language() -> Language {
    REQUEST_LANGUAGE.try_with(|l| *l).unwrap_or_default()
}

/// The message for an error code, in `language`.
pub fn message(code: &str, language: Language) -> &'static str {
    let (en, fr) = lookup(code).unwrap_or(INTERNAL);
    match language {
        Language::En => en,
        Language::Fr => fr,
    }
}

const INTERNAL: (&str, &str) = ("Internal error.", "Erreur interne.");

/// Every code the API emits has an entry here (a unit test checks).
fn lookup(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "internal_error" => INTERNAL,
        "post_not_published" => (
            "This post is waiting for a moderator's approval (or was rejected): approve it first.",
            "Cette publication attend l'approbation d'un modérateur (ou a été refusée) : approuvez-la d'abord.",
        ),
        "moderation_reason_too_long" => (
            "The reason is too long (2,000 characters at most).",
            "La raison est trop longue (2 000 caractères au plus).",
        ),
        "moderation_expiry_in_past" => (
            "The end date must be in the future.",
            "La date de fin doit être dans le futur.",
        ),
        "unknown_notification_kind" => (
            "Unknown notification kind (reply, answer_accepted, like, idea_status, badge_awarded, join_request, moderation, accept_reminder, bounty_won, contest_result, mention, champion, rank_reached).",
            "Type de notification inconnu (reply, answer_accepted, like, idea_status, badge_awarded, join_request, moderation, accept_reminder, bounty_won, contest_result, mention, champion, rank_reached).",
        ),
        "unknown_notification_delivery" => (
            "Unknown delivery: use in_app, email_immediate, email_daily, email_weekly or off.",
            "Mode de réception inconnu : utilisez in_app, email_immediate, email_daily, email_weekly ou off.",
        ),
        "unknown_time_zone" => (
            "Unknown time zone: give a name such as Europe/Paris or America/Montreal, spelled as in the time-zone database, or UTC.",
            "Fuseau horaire inconnu : indiquez un nom comme Europe/Paris ou America/Montreal, écrit comme dans la base des fuseaux horaires, ou UTC.",
        ),
        "unknown_report_reason" => (
            "This reason is not one the group offers for reports.",
            "Ce motif ne fait pas partie de ceux que le groupe propose pour les signalements.",
        ),
        "report_closed" => (
            "This report was already resolved or dismissed.",
            "Ce signalement a déjà été traité ou classé.",
        ),
        "banned_from_group" => (
            "You are banned from this group.",
            "Vous êtes banni de ce groupe.",
        ),
        "out_of_stock" => (
            "This reward is out of stock (no unit or code left to sell or put up for auction).",
            "Cette récompense est épuisée (plus aucune unité ni aucun code à vendre ou à mettre aux enchères).",
        ),
        "reward_stock_unlimited" => (
            "This reward's stock is unlimited: there is nothing to restock or adjust.",
            "Le stock de cette récompense est illimité : il n'y a rien à réapprovisionner ni à ajuster.",
        ),
        "stock_below_reserved" => (
            "This write-off is more than the units free: the others are promised to open orders or auction lots. Refuse or cancel those first, or write off fewer.",
            "Cette sortie de stock dépasse les unités libres : les autres sont promises à des commandes en cours ou à des lots aux enchères. Refusez ou annulez-les d'abord, ou sortez-en moins.",
        ),
        "stock_below_zero" => (
            "This write-off is more than all the units on hand, even counting those promised to open orders or auction lots. Write off at most the units still in stock.",
            "Le stock passerait sous zéro : il n'y a pas autant d'unités, même en comptant celles promises à des commandes en cours ou à des lots aux enchères. Ne sortez pas plus d'unités qu'il n'en reste en stock.",
        ),
        "reward_not_stocked" => (
            "A digital reward's units are its codes: none is damaged, lost, given away or received by hand. Add codes to sell more; its stock, if set, is a cap on sales that a correction changes.",
            "Les unités d'une récompense numérique sont ses codes : aucune n'est abîmée, perdue, offerte ou reçue à la main. Ajoutez des codes pour en vendre plus ; son stock, s'il est fixé, plafonne les ventes et se change par une correction.",
        ),
        "insufficient_points" => (
            "You do not have enough points available (your balance less what your bids hold).",
            "Vous n'avez pas assez de points disponibles (votre solde moins ce que vos enchères retiennent).",
        ),
        "redemption_limit_reached" => (
            "You have reached the limit of orders for this reward.",
            "Vous avez atteint la limite de commandes pour cette récompense.",
        ),
        "reward_not_available" => (
            "This reward cannot be ordered at this time.",
            "Cette récompense ne peut pas être commandée en ce moment.",
        ),
        "reward_not_eligible" => (
            "This reward is reserved for members of a given rank, badge or the champions.",
            "Cette récompense est réservée aux membres d'un certain rang, d'un badge ou aux champions.",
        ),
        "address_required" => (
            "A delivery address is required for a physical reward.",
            "Une adresse de livraison est requise pour une récompense physique.",
        ),
        "order_transition_not_allowed" => (
            "The order cannot move to this state from where it is.",
            "La commande ne peut pas passer à cet état depuis son état actuel.",
        ),
        "auction_not_started" => (
            "This auction has not started yet.",
            "Cette enchère n'a pas encore commencé.",
        ),
        "auction_ended" => ("This auction has ended.", "Cette enchère est terminée."),
        "auction_closed" => (
            "This auction is closed (settled or cancelled).",
            "Cette enchère est close (attribuée ou annulée).",
        ),
        "bid_too_low" => (
            "The bid is below the minimum: the starting price, or the leading bid plus the increment.",
            "L'offre est sous le minimum : le prix de départ, ou l'offre en tête plus l'incrément.",
        ),
        "already_highest_bidder" => (
            "You already lead this auction: you cannot outbid yourself.",
            "Vous êtes déjà en tête de cette enchère : vous ne pouvez pas surenchérir sur vous-même.",
        ),
        "cannot_ban_moderator" => (
            "A moderator of the group cannot be banned from it.",
            "Un modérateur du groupe ne peut pas en être banni.",
        ),
        "not_a_moderator_of_group" => (
            "Only this group's moderators and the instance's admins and community managers can do this.",
            "Seuls les modérateurs de ce groupe et les administrateurs et responsables de communauté de l'instance peuvent faire cela.",
        ),
        "moderation_not_through_group" => (
            "This group is on another server: its moderators act there, and their actions reach us through the group.",
            "Ce groupe est sur un autre serveur : ses modérateurs agissent là-bas, et leurs actions nous parviennent par le groupe.",
        ),
        "content_outside_group" => (
            "This content belongs to another group than the one you moderate.",
            "Ce contenu appartient à un autre groupe que celui que vous modérez.",
        ),
        "champion_person_remote" => (
            "Only members of this instance can join its champions programme.",
            "Seuls les membres de cette instance peuvent rejoindre son programme des champions.",
        ),
        "champion_person_suspended" => (
            "A suspended account cannot be nominated as a champion.",
            "Un compte suspendu ne peut pas être proposé comme champion.",
        ),
        "champion_already_in_programme" => (
            "This person is already invited to or part of the champions programme.",
            "Cette personne est déjà invitée au programme des champions ou en fait partie.",
        ),
        "champion_no_invitation" => (
            "There is no pending champions invitation for this step.",
            "Aucune invitation au programme des champions n'attend cette étape.",
        ),
        "champion_not_active" => (
            "This person is not an active champion.",
            "Cette personne n'est pas un champion actif.",
        ),
        "champion_no_charter" => (
            "No champions charter has been published yet.",
            "Aucune charte des champions n'a encore été publiée.",
        ),
        "champion_charter_outdated" => (
            "This is not the current version of the charter; read and accept the current one.",
            "Ce n'est pas la version en vigueur de la charte ; lisez et acceptez la version actuelle.",
        ),
        "champion_objective_negative" => (
            "An objective's target cannot be negative.",
            "La cible d'un objectif ne peut pas être négative.",
        ),
        "champion_objective_unknown_metric" => (
            "This objective is not one the programme measures.",
            "Le programme ne mesure pas cet objectif.",
        ),
        "champion_group_unsuitable" => (
            "A champion can only be named for this instance's own federated groups.",
            "Un champion ne peut être désigné que pour les groupes fédérés de cette instance.",
        ),
        "champion_tools_not_a_champion" => (
            "Champion tools are for active champions.",
            "Les outils des champions sont réservés aux champions actifs.",
        ),
        "champion_tools_charter_not_accepted" => (
            "A new charter version was published: accept it to use champion tools again.",
            "Une nouvelle version de la charte a été publiée : acceptez-la pour retrouver les outils des champions.",
        ),
        "champion_tools_not_their_group" => (
            "You are not a champion of this group.",
            "Vous n'êtes pas champion de ce groupe.",
        ),
        "champion_reason_required" => (
            "Give a reason: it is recorded and shown to the member.",
            "Donnez une raison : elle est enregistrée et montrée au membre.",
        ),
        "champion_person_pending" => (
            "An account still awaiting approval cannot be nominated as a champion.",
            "Un compte encore en attente de validation ne peut pas être proposé comme champion.",
        ),
        "group_programme_only" => (
            "Membership of the champions group follows the champions programme: it cannot be joined, left, asked for, invited to or changed by hand.",
            "L'appartenance au groupe des champions suit le programme des champions : on ne peut pas y entrer, en sortir, la demander, y inviter ni la modifier à la main.",
        ),
        "badge_programme_only" => (
            "The champion badge comes with the champions programme: it cannot be awarded, revoked or restored by hand.",
            "Le badge de champion vient avec le programme des champions : il ne peut pas être attribué, retiré ni rétabli à la main.",
        ),
        "champion_move_visibility" => (
            "A post moves only between groups with the same visibility.",
            "Une publication ne peut être déplacée qu'entre groupes de même visibilité.",
        ),
        "champion_own_answer" => (
            "Champion tools do not accept your own answer.",
            "Les outils de champion n'acceptent pas votre propre réponse.",
        ),
        "champion_group_name_taken" => (
            "A group named \"champions\" already exists: rename it before the programme can make its champions group.",
            "Un groupe nommé « champions » existe déjà : renommez-le pour que le programme puisse créer son groupe des champions.",
        ),
        "owner_cannot_leave" => (
            "The owner cannot leave the group; hand it over first.",
            "Le propriétaire ne peut pas quitter le groupe ; transmettez-le d'abord.",
        ),
        "group_exists" => (
            "A group with this name already exists.",
            "Un groupe porte déjà ce nom.",
        ),
        "proposal_closed" => (
            "This proposal has already been decided.",
            "Cette proposition a déjà été tranchée.",
        ),
        "insufficient_reputation" => (
            "You need more reputation to do this.",
            "Il vous faut plus de réputation pour faire cela.",
        ),
        "balance_would_be_negative" => (
            "This would take the points balance below zero.",
            "Le solde de points deviendrait négatif.",
        ),
        "bounty_running" => (
            "A bounty is running on this question: until it is awarded or settled, no other bounty can be offered on it, and neither its author nor the bounty's sponsor can delete or remove it, nor take it down by a ban that removes its author's content.",
            "Une prime est en cours sur cette question : tant qu'elle n'est ni attribuée ni réglée, on ne peut pas en offrir une autre, et ni son auteur ni la personne qui a offert la prime ne peuvent la supprimer ou la retirer, ni la faire disparaître par un bannissement qui retire les contenus de son auteur.",
        ),
        "bounty_ended" => (
            "This bounty has ended: it is settled by the best-answer rule, not awarded by hand.",
            "Cette prime est terminée : la règle de la meilleure réponse la départage, elle ne s'attribue plus à la main.",
        ),
        "question_closed" => (
            "This question is closed (answered or locked): no bounty can be offered on it.",
            "Cette question est close (résolue ou verrouillée) : on ne peut plus y offrir de prime.",
        ),
        "badge_held" => (
            "This person already holds this badge.",
            "Cette personne a déjà ce badge.",
        ),
        "idempotency_key_reused" => (
            "This Idempotency-Key was already used for a different request.",
            "Cette Idempotency-Key a déjà servi pour une autre requête.",
        ),
        "invalid_idempotency_key" => (
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            "L'en-tête Idempotency-Key doit compter de 1 à 255 caractères ASCII visibles.",
        ),
        "contest_closed" => (
            "This contest is already closed.",
            "Ce concours est déjà clos.",
        ),
        "instance_blocked" => (
            "That instance is blocked here.",
            "Cette instance est bloquée ici.",
        ),
        "remote_unavailable" => (
            "The other server could not be reached or did not answer as expected.",
            "L'autre serveur est injoignable ou n'a pas répondu comme prévu.",
        ),
        "invalid_credentials" => (
            "Wrong username or password.",
            "Nom d'utilisateur ou mot de passe incorrect.",
        ),
        "unauthenticated" => (
            "Authentication required: send a valid bearer token.",
            "Authentification requise : envoyez un jeton valide.",
        ),
        "account_pending_approval" => (
            "Your account is waiting for a moderator's approval.",
            "Votre compte attend la validation d'un modérateur.",
        ),
        "account_suspended" => ("This account is suspended.", "Ce compte est suspendu."),
        "email_not_verified" => (
            "Confirm your e-mail address first: follow the link we mailed you (or ask for a new one).",
            "Confirmez d'abord votre adresse e-mail : suivez le lien envoyé (ou demandez-en un nouveau).",
        ),
        "token_invalid" => (
            "This link is not valid: check that it was copied whole.",
            "Ce lien n'est pas valide : vérifiez qu'il a été copié en entier.",
        ),
        "token_used" => (
            "This link was already used; ask for a new one if needed.",
            "Ce lien a déjà servi ; demandez-en un nouveau si besoin.",
        ),
        "token_expired" => (
            "This link has expired; ask for a new one.",
            "Ce lien a expiré ; demandez-en un nouveau.",
        ),
        "unsubscribe_link_invalid" => (
            "This unsubscribe link is not valid; nothing was changed.",
            "Ce lien de désinscription n'est pas valide ; rien n'a été modifié.",
        ),
        "email_disabled" => (
            "This instance does not send e-mail.",
            "Cette instance n'envoie pas d'e-mails.",
        ),
        "unknown_mail_kind" => (
            "Unknown kind of mail, or one that cannot be turned off.",
            "Type de message inconnu, ou qui ne peut pas être désactivé.",
        ),
        "banned_from_instance" => (
            "This account is banned from this instance.",
            "Ce compte est banni de cette instance.",
        ),
        "unknown_instance" => (
            "We know of no such instance.",
            "Nous ne connaissons pas cette instance.",
        ),
        "post_moved" => (
            "This post was moved to another group meanwhile: look it up again.",
            "Cette publication a été déplacée dans un autre groupe entre-temps : affichez-la de nouveau.",
        ),
        "post_not_pending" => (
            "This post is not waiting for approval.",
            "Cette publication n'attend pas de validation.",
        ),
        "not_banned" => (
            "This person is not banned.",
            "Cette personne n'est pas bannie.",
        ),
        "author_banned" => (
            "The author of this post is banned from this group or from the instance: it cannot be published or moved here.",
            "L'auteur de cette publication est banni de ce groupe ou de l'instance : elle ne peut pas y être publiée ni déplacée.",
        ),
        "person_banned" => (
            "This person is banned from this group or from the instance: they cannot be let in or invited while the ban lasts.",
            "Cette personne est bannie de ce groupe ou de l'instance : elle ne peut pas y être admise ni invitée tant que dure le bannissement.",
        ),
        "forbidden" => (
            "You are not allowed to do this.",
            "Vous n'avez pas le droit de faire cela.",
        ),
        "registrations_closed" => (
            "Registrations are closed on this instance.",
            "Les inscriptions sont fermées sur cette instance.",
        ),
        "invite_required" => (
            "An invitation is required to register on this instance.",
            "Une invitation est nécessaire pour s'inscrire sur cette instance.",
        ),
        "invalid_invite" => (
            "This invitation is unknown, already used or expired.",
            "Cette invitation est inconnue, déjà utilisée ou expirée.",
        ),
        "invalid_setup_token" => (
            "The setup token is unknown or already used.",
            "Le jeton d'installation est inconnu ou déjà utilisé.",
        ),
        "not_found" => ("Not found.", "Introuvable."),
        "outbox_event_not_parked" => (
            "No failed outbox event has this id.",
            "Aucun événement sortant en échec ne porte cet identifiant.",
        ),
        "mail_not_parked" => (
            "No parked mail has this id: it was sent, is already waiting to be sent again, or was deleted as no longer wanted.",
            "Aucun courriel en échec ne porte cet identifiant : il a été envoyé, attend déjà d'être renvoyé, ou a été supprimé comme n'étant plus souhaité.",
        ),
        "mail_no_longer_wanted" => (
            "This mail is no longer wanted (its recipient refused this kind of mail or changed their notification or digest preferences, was suspended, changed address or left the private group it speaks of; or what it speaks of was deleted or removed, its link expired, or its triggered e-mail was disabled, deleted or stopped by its condition): it was deleted, not sent.",
            "Ce courriel n'est plus souhaité (son destinataire a refusé ce type de courriel ou changé ses préférences de notifications ou de résumés, a été suspendu, a changé d'adresse ou a quitté le groupe privé dont il parle ; ou ce dont il parle a été supprimé ou retiré, son lien a expiré, ou son courriel déclenché a été désactivé, supprimé ou arrêté par sa condition) : il a été supprimé, pas envoyé.",
        ),
        "route_not_found" => (
            "There is no such endpoint.",
            "Ce point d'accès n'existe pas.",
        ),
        "method_not_allowed" => (
            "This endpoint does not accept this method.",
            "Ce point d'accès n'accepte pas cette méthode.",
        ),
        "username_taken" => (
            "This username is already taken.",
            "Ce nom d'utilisateur est déjà pris.",
        ),
        "name_taken" => (
            "This name is already used by a person or a group of this instance.",
            "Ce nom est déjà celui d'une personne ou d'un groupe de cette instance.",
        ),
        "email_taken" => (
            "This e-mail address is already used by another account.",
            "Cette adresse e-mail est déjà utilisée par un autre compte.",
        ),
        "already_exists" => ("This already exists.", "Cet élément existe déjà."),
        "last_admin" => (
            "The last admin cannot lose the admin role.",
            "Le dernier administrateur ne peut pas perdre son rôle.",
        ),
        "not_pending" => (
            "This account is not waiting for approval.",
            "Ce compte n'attend pas de validation.",
        ),
        "validation_failed" => ("A field is not valid.", "Un champ n'est pas valide."),
        "constraint_violated" => (
            "The request breaks a rule of the data model.",
            "La requête enfreint une règle du modèle de données.",
        ),
        "invalid_reference" => (
            "The request refers to something that does not exist.",
            "La requête fait référence à un élément inexistant.",
        ),
        "malformed_json" => (
            "The request body is not valid JSON.",
            "Le corps de la requête n'est pas du JSON valide.",
        ),
        "invalid_body" => (
            "The request body does not have the expected fields.",
            "Le corps de la requête n'a pas les champs attendus.",
        ),
        "unsupported_media_type" => (
            "Send the request body as application/json.",
            "Envoyez le corps de la requête en application/json.",
        ),
        "payload_too_large" => (
            "The request body is too large.",
            "Le corps de la requête est trop volumineux.",
        ),
        "invalid_query" => (
            "A query parameter is not valid.",
            "Un paramètre de requête n'est pas valide.",
        ),
        "invalid_cursor" => (
            "The pagination cursor is not valid.",
            "Le curseur de pagination n'est pas valide.",
        ),
        "rate_limited" => (
            "Too many attempts; try again later.",
            "Trop de tentatives ; réessayez plus tard.",
        ),
        "database_unavailable" => (
            "The database is not reachable.",
            "La base de données est injoignable.",
        ),
        "database_busy" => (
            "The server is busy; try again in a moment.",
            "Le serveur est occupé ; réessayez dans un instant.",
        ),
        "database_conflict" => (
            "A concurrent request got in the way; nothing was changed, try again.",
            "Une requête simultanée a interféré ; rien n'a été modifié, réessayez.",
        ),
        "unknown_template_variable" => (
            "The template uses an unknown variable (see details.variable); allowed: {{name}}, {{instance}}, {{days}}, {{link}}.",
            "Le modèle utilise une variable inconnue (voir details.variable) ; permises : {{name}}, {{instance}}, {{days}}, {{link}}.",
        ),
        "template_unclosed_variable" => (
            "The template opens a variable with {{ and never closes it with }}.",
            "Le modèle ouvre une variable avec {{ sans la fermer par }}.",
        ),
        "quiz_without_correct_answer" => (
            "Every quiz needs questions, and every question its correct answer (a choice marked correct, or the number for a numeric question).",
            "Chaque quiz a besoin de questions, et chaque question de sa bonne réponse (un choix marqué correct, ou le nombre d'une question numérique).",
        ),
        "single_choice_with_several_answers" => (
            "A single choice question has exactly one correct choice.",
            "Une question à choix unique a exactement un bon choix.",
        ),
        "pass_mark_out_of_range" => (
            "The pass mark is a percentage, from 0 to 100.",
            "La note de passage est un pourcentage, de 0 à 100.",
        ),
        "lesson_order_gaps" => (
            "Lessons and quizzes are numbered 1, 2, 3… without gaps or repeats.",
            "Les leçons et les quiz sont numérotés 1, 2, 3… sans trou ni doublon.",
        ),
        "quiz_after_unknown_lesson" => (
            "The quiz follows a lesson the course does not have.",
            "Le quiz suit une leçon que le cours ne contient pas.",
        ),
        "course_audience_incomplete" => (
            "This audience needs its group, its reputation or its badge.",
            "Ce public doit préciser son groupe, sa réputation ou son badge.",
        ),
        "prerequisites_unmet" => (
            "This course requires a valid certificate from its prerequisite courses first.",
            "Ce cours exige d'abord un certificat valide des cours prérequis.",
        ),
        "course_not_open_to_you" => (
            "This course is reserved for a group's members, a reputation or a badge you do not have.",
            "Ce cours est réservé aux membres d'un groupe, à une réputation ou à un badge que vous n'avez pas.",
        ),
        "not_enrolled" => (
            "Enrol in the course first.",
            "Inscrivez-vous d'abord au cours.",
        ),
        "quiz_attempts_exhausted" => (
            "You have used every attempt this quiz allows.",
            "Vous avez épuisé toutes les tentatives que ce quiz autorise.",
        ),
        "quiz_cooling_down" => (
            "Your last attempt failed: the next one may start once the waiting time ends (see details.until).",
            "Votre dernière tentative a échoué : la suivante pourra commencer à la fin du délai d'attente (voir details.until).",
        ),
        "attempt_already_submitted" => (
            "This attempt was already submitted; start a new one.",
            "Cette tentative a déjà été soumise ; commencez-en une nouvelle.",
        ),
        "answer_invalid" => (
            "An answer does not fit its question (a choice from another question, several choices for a single choice question, or no number for a numeric one).",
            "Une réponse ne correspond pas à sa question (un choix d'une autre question, plusieurs choix pour une question à choix unique, ou pas de nombre pour une question numérique).",
        ),
        "course_without_lessons" => (
            "A course needs at least one lesson to be published.",
            "Un cours a besoin d'au moins une leçon pour être publié.",
        ),
        "quiz_without_questions" => (
            "Every quiz needs at least one question before the course is published.",
            "Chaque quiz a besoin d'au moins une question avant que le cours soit publié.",
        ),
        "course_not_draft" => (
            "Learners see this course: withdraw it (make it a draft) before changing its quizzes.",
            "Des apprenants voient ce cours : retirez-le (repassez-le en brouillon) avant de modifier ses quiz.",
        ),
        "course_has_attempts" => (
            "Learners have already attempted this quiz: its questions and answers can no longer change (add a new quiz instead).",
            "Des apprenants ont déjà tenté ce quiz : ses questions et ses réponses ne peuvent plus changer (ajoutez plutôt un nouveau quiz).",
        ),
        "course_audience_visibility_locked" => (
            "This audience would make the course's discussion group public or private: keep a restricted audience restricted, or an open one open.",
            "Ce public rendrait le groupe de discussion du cours public ou privé : gardez restreint un public restreint, ou ouvert un public ouvert.",
        ),
        "prerequisite_cycle" => (
            "These prerequisites would, through one another, require this course itself: nobody could ever enrol. Remove one of the loop.",
            "Ces prérequis exigeraient, de l'un à l'autre, ce cours lui-même : personne ne pourrait jamais s'inscrire. Retirez-en un de la boucle.",
        ),
        "prerequisite_not_published" => (
            "A prerequisite must be a published course: learners cannot complete a draft.",
            "Un prérequis doit être un cours publié : les apprenants ne peuvent pas terminer un brouillon.",
        ),
        "course_is_draft" => (
            "This course is a draft: its quizzes can be taken once it is published.",
            "Ce cours est un brouillon : ses quiz pourront être passés une fois qu'il sera publié.",
        ),
        "builtin_course_prerequisites" => (
            "The getting-started course cannot require other courses: newcomers take it first, as a step of their onboarding.",
            "Le cours de prise en main ne peut pas exiger d'autres cours : les nouveaux venus le suivent en premier, comme une étape de leur accueil.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_has_distinct_french_and_english() {
        for code in crate::error::ALL_CODES {
            let (en, fr) = lookup(code).unwrap_or_else(|| panic!("no message for {code}"));
            assert_ne!(en, fr, "{code} is not translated");
        }
    }

    /// French puts a non-breaking space before `: ; ? ! »` and after `«`: with a plain one, a
    /// line can break before the colon or leave a guillemet alone at a line's start.
    #[test]
    fn french_messages_keep_their_punctuation_on_the_line() {
        for code in crate::error::ALL_CODES {
            let (_, fr) = lookup(code).unwrap();
            assert!(
                cenacle_domain::typography::french_spacing_faults(fr).is_empty(),
                "{code}: {fr:?}"
            );
        }
    }
}
