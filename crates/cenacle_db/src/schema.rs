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
        ap_id -> Nullable<Text>,
        inbox_url -> Nullable<Text>,
        shared_inbox_url -> Nullable<Text>,
        public_key_pem -> Nullable<Text>,
        private_key_pem -> Nullable<Text>,
        instance_host -> Nullable<Text>,
        last_refreshed_at -> Timestamptz,
        home_reputation -> Nullable<Int8>,
        home_rank -> Nullable<Text>,
        title_badge_id -> Nullable<Int8>,
        handle_host -> Nullable<Text>,
        handle_host_confirmed_at -> Nullable<Timestamptz>,
        handle_host_missed_at -> Nullable<Timestamptz>,
        handle_host_missed_by_actor -> Bool,
        handle_host_asked_at -> Nullable<Timestamptz>,
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
        email_verified_at -> Nullable<Timestamptz>,
        time_zone -> Nullable<Text>,
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

diesel::table! {
    community_group (id) {
        id -> Int8,
        name -> Text,
        title -> Text,
        description -> Text,
        local -> Bool,
        ap_id -> Text,
        inbox_url -> Text,
        shared_inbox_url -> Nullable<Text>,
        followers_url -> Nullable<Text>,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        instance_host -> Text,
        visibility -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_refreshed_at -> Timestamptz,
        rules -> Text,
        tags -> Array<Text>,
        avatar_url -> Nullable<Text>,
        banner_url -> Nullable<Text>,
        dislikes_enabled -> Bool,
        archived_at -> Nullable<Timestamptz>,
        local_only -> Bool,
    }
}

diesel::table! {
    instance_actor (id) {
        id -> Int4,
        public_key_pem -> Text,
        private_key_pem -> Text,
    }
}

diesel::table! {
    follow (target_ap_id, follower_ap_id) {
        target_ap_id -> Text,
        follower_ap_id -> Text,
        follower_inbox -> Text,
        follower_shared_inbox -> Nullable<Text>,
        state -> Text,
        follow_activity_id -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    received_activity (ap_id) {
        ap_id -> Text,
        actor_ap_id -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    instance (host) {
        host -> Text,
        blocked -> Bool,
        first_seen_at -> Timestamptz,
        last_success_at -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
        dead -> Bool,
        reputation_weight -> Float8,
        next_probe_at -> Nullable<Timestamptz>,
        probe_failures -> Int4,
        allowed -> Bool,
        limited -> Bool,
    }
}

diesel::table! {
    outbox_event (id) {
        id -> Int8,
        kind -> Text,
        subject_id -> Int8,
        created_at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        payload -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        failed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outgoing_activity (id) {
        id -> Int8,
        ap_id -> Text,
        signer_ap_id -> Text,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    delivery (id) {
        id -> Int8,
        activity_id -> Int8,
        inbox_url -> Text,
        host -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    group_membership (group_id, person_id) {
        group_id -> Int8,
        person_id -> Int8,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    post (id) {
        id -> Int8,
        group_id -> Int8,
        author_id -> Int8,
        kind -> Text,
        title -> Text,
        body -> Text,
        language -> Text,
        tags -> Array<Text>,
        idea_status -> Nullable<Text>,
        duplicate_of -> Nullable<Int8>,
        accepted_comment_id -> Nullable<Int8>,
        accepted_by -> Nullable<Int8>,
        locked -> Bool,
        pinned -> Bool,
        likes -> Int4,
        dislikes -> Int4,
        comment_count -> Int4,
        ap_id -> Text,
        local -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_activity_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        rating_sum -> Int4,
        rating_count -> Int4,
        accepted_at -> Nullable<Timestamptz>,
        sentiment -> Nullable<Float4>,
        removed_at -> Nullable<Timestamptz>,
        removal_reason -> Nullable<Text>,
        approval -> Nullable<Text>,
        approval_reason -> Nullable<Text>,
    }
}

diesel::table! {
    comment (id) {
        id -> Int8,
        post_id -> Int8,
        parent_id -> Nullable<Int8>,
        author_id -> Int8,
        body -> Text,
        depth -> Int4,
        likes -> Int4,
        dislikes -> Int4,
        ap_id -> Text,
        local -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        language -> Text,
        sentiment -> Nullable<Float4>,
        removed_at -> Nullable<Timestamptz>,
        removal_reason -> Nullable<Text>,
    }
}

diesel::table! {
    vote (id) {
        id -> Int8,
        person_id -> Int8,
        post_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
        value -> Int2,
        activity_id -> Nullable<Text>,
        created_at -> Timestamptz,
        counted -> Bool,
        weight -> Float8,
    }
}

diesel::table! {
    post_edit (id) {
        id -> Int8,
        post_id -> Int8,
        editor_id -> Nullable<Int8>,
        title -> Text,
        body -> Text,
        tags -> Array<Text>,
        edited_at -> Timestamptz,
    }
}

diesel::table! {
    idea_status_change (id) {
        id -> Int8,
        post_id -> Int8,
        changed_by -> Nullable<Int8>,
        from_status -> Text,
        to_status -> Text,
        comment -> Nullable<Text>,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    post_rating (post_id, person_id) {
        post_id -> Int8,
        person_id -> Int8,
        stars -> Int2,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    group_proposal (id) {
        id -> Int8,
        name -> Text,
        title -> Text,
        purpose -> Text,
        proposer_id -> Int8,
        status -> Text,
        group_id -> Nullable<Int8>,
        decided_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    group_proposal_backer (proposal_id, person_id) {
        proposal_id -> Int8,
        person_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    group_join_request (group_id, person_id) {
        group_id -> Int8,
        person_id -> Int8,
        message -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    group_invitation (group_id, person_id) {
        group_id -> Int8,
        person_id -> Int8,
        invited_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    media (id) {
        id -> Int8,
        file_name -> Text,
        uploader_id -> Int8,
        content_type -> Text,
        size_bytes -> Int8,
        created_at -> Timestamptz,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    media_embed (media_id, group_id) {
        media_id -> Int8,
        group_id -> Int8,
    }
}

diesel::table! {
    post_attachment (post_id, position) {
        post_id -> Int8,
        position -> Int4,
        media_id -> Nullable<Int8>,
        url -> Nullable<Text>,
        media_type -> Nullable<Text>,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    reputation (person_id) {
        person_id -> Int8,
        score -> Int8,
        capped_day -> Nullable<Date>,
        capped_today -> Int8,
        likes_received_milli -> Int8,
        rank_told -> Nullable<Int8>,
        rank_due -> Bool,
    }
}

diesel::table! {
    reputation_event (id) {
        id -> Int8,
        person_id -> Int8,
        delta -> Int8,
        cause -> Text,
        source_key -> Text,
        group_id -> Nullable<Int8>,
        reverses -> Nullable<Int8>,
        reversed -> Bool,
        capped -> Bool,
        created_at -> Timestamptz,
        post_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
        likes_milli -> Int8,
    }
}

diesel::table! {
    points_balance (person_id) {
        person_id -> Int8,
        balance -> Int8,
        capped_day -> Nullable<Date>,
        capped_today -> Int8,
        may_owe -> Bool,
    }
}

diesel::table! {
    points_ledger (id) {
        id -> Int8,
        person_id -> Int8,
        delta -> Int8,
        reason -> Text,
        source_key -> Text,
        granted_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        reverses -> Nullable<Int8>,
        reversed -> Bool,
        once -> Bool,
        capped -> Bool,
        post_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
    }
}

diesel::table! {
    idempotent_request (actor_id, key) {
        actor_id -> Int8,
        key -> Text,
        action -> Text,
        request_hash -> Text,
        response -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    bounty (id) {
        id -> Int8,
        post_id -> Int8,
        sponsor_id -> Int8,
        amount -> Int8,
        status -> Text,
        awarded_comment_id -> Nullable<Int8>,
        paid -> Int8,
        created_at -> Timestamptz,
        ends_at -> Timestamptz,
        settled_at -> Nullable<Timestamptz>,
        winner_id -> Nullable<Int8>,
    }
}

diesel::table! {
    badge (id) {
        id -> Int8,
        slug -> Text,
        tier -> Text,
        name_en -> Text,
        name_fr -> Text,
        description_en -> Text,
        description_fr -> Text,
        honorific -> Bool,
    }
}

diesel::table! {
    badge_award (id) {
        id -> Int8,
        badge_id -> Int8,
        person_id -> Int8,
        awarded_by -> Nullable<Int8>,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Int8>,
        revoke_reason -> Nullable<Text>,
        revoked_on_expiry -> Bool,
    }
}

diesel::table! {
    contest (id) {
        id -> Int8,
        title -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        group_ids -> Array<Int8>,
        causes -> Array<Text>,
        created_by -> Nullable<Int8>,
        closed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    contest_winner (contest_id, person_id) {
        contest_id -> Int8,
        rank -> Int8,
        person_id -> Int8,
        points -> Int8,
        prize -> Int8,
    }
}

diesel::table! {
    moderation_action (id) {
        id -> Int8,
        group_id -> Nullable<Int8>,
        moderator_id -> Nullable<Int8>,
        action -> Text,
        target_person_id -> Nullable<Int8>,
        target_post_id -> Nullable<Int8>,
        target_comment_id -> Nullable<Int8>,
        target_instance -> Nullable<Text>,
        reason -> Text,
        expires_at -> Nullable<Timestamptz>,
        ap_id -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    shortlist_snapshot (id) {
        id -> Int8,
        tag -> Text,
        group_id -> Nullable<Int8>,
        days -> Int4,
        period_from -> Date,
        period_to -> Date,
        computed_at -> Timestamptz,
        last_asked_at -> Timestamptz,
        acceptance_rate -> Float8,
        complete -> Bool,
        entries -> Jsonb,
        refresh_failed_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(badge_award -> badge (badge_id));
diesel::joinable!(local_user -> person (person_id));
diesel::joinable!(post_attachment -> media (media_id));
diesel::joinable!(post -> person (author_id));
diesel::joinable!(post -> community_group (group_id));
diesel::joinable!(group_membership -> person (person_id));
diesel::joinable!(group_join_request -> person (person_id));
diesel::joinable!(group_invitation -> community_group (group_id));
diesel::joinable!(delivery -> outgoing_activity (activity_id));
diesel::joinable!(auth_token -> local_user (person_id));
diesel::allow_tables_to_appear_in_same_query!(
    person,
    local_user,
    auth_token,
    invite,
    setup_token,
    community_group,
    instance_actor,
    follow,
    received_activity,
    instance,
    outbox_event,
    outgoing_activity,
    delivery,
    group_membership,
    post,
    comment,
    vote,
    post_edit,
    idea_status_change,
    post_rating,
    group_proposal,
    group_proposal_backer,
    group_join_request,
    group_invitation,
    media,
    media_embed,
    post_attachment,
    reputation,
    reputation_event,
    points_balance,
    points_ledger,
    idempotent_request,
    bounty,
    badge,
    badge_award,
    contest,
    contest_winner,
    moderation_action,
);
