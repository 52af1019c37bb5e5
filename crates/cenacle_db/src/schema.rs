//! The diesel view of `migrations/`. Written by hand to match the SQL; the migration test
//! (`tests/schema.rs`) fails if a column here is missing from the database.

diesel::table! {
    person (id) {
        id -> Int8,
        username -> Text,
        display_name -> Nullable<Text>,
        bio -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        expertise_tags -> Array<Text>,
        local -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    local_user (person_id) {
        person_id -> Int8,
        email -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        language -> Text,
        status -> Text,
        registration_reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    auth_token (id) {
        id -> Int8,
        person_id -> Int8,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invite (id) {
        id -> Int8,
        code_hash -> Bytea,
        created_by -> Int8,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_by -> Nullable<Int8>,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    setup_token (id) {
        id -> Int4,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(local_user -> person (person_id));
diesel::joinable!(auth_token -> local_user (person_id));
diesel::allow_tables_to_appear_in_same_query!(person, local_user, auth_token, invite, setup_token);
