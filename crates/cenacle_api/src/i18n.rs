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
        "owner_cannot_leave" => (
            "The owner cannot leave the group; hand it over first.",
            "Le propriétaire ne peut pas quitter le groupe ; transmettez-le d'abord.",
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
            "This question already has a running bounty.",
            "Cette question a déjà une prime en cours.",
        ),
        "bounty_ended" => (
            "This bounty has ended: it is settled by the best-answer rule, not awarded by hand.",
            "Cette prime est terminée : la règle de la meilleure réponse la départage, elle ne s'attribue plus à la main.",
        ),
        "question_closed" => (
            "This question is closed (answered or locked): no bounty can be offered on it.",
            "Cette question est close (résolue ou verrouillée) : on ne peut plus y offrir de prime.",
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
            "Authentification requise : envoyez un jeton valide.",
        ),
        "account_pending_approval" => (
            "Your account is waiting for a moderator's approval.",
            "Votre compte attend la validation d'un modérateur.",
        ),
        "account_suspended" => ("This account is suspended.", "Ce compte est suspendu."),
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
            "Trop de tentatives ; réessayez plus tard.",
        ),
        "database_unavailable" => (
            "The database is not reachable.",
            "La base de données est injoignable.",
        ),
        "database_busy" => (
            "The server is busy; try again in a moment.",
            "Le serveur est occupé ; réessayez dans un instant.",
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
}
