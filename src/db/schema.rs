//! One diesel schema for both backends. The SQL lives in
//! `migrations/{sqlite,postgres}`; keep the three in step.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        website -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        charity_number -> Nullable<Text>,
        logo_url -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    taxonomy_terms (id) {
        id -> Text,
        taxonomy -> Text,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_areas (code) {
        code -> Text,
        area_type -> Text,
        name -> Text,
    }
}

diesel::table! {
    locations (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        address_1 -> Nullable<Text>,
        address_2 -> Nullable<Text>,
        town -> Nullable<Text>,
        postcode -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        location_type -> Text,
        council_area_code -> Nullable<Text>,
        health_board_code -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    location_accessibility (location_id, term_id) {
        location_id -> Text,
        term_id -> Text,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        description -> Text,
        url -> Nullable<Text>,
        email -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        reopens_on -> Nullable<Date>,
        replaced_by -> Nullable<Text>,
        delivery_methods -> Text,
        self_referral -> Bool,
        referral_required -> Bool,
        referral_url -> Nullable<Text>,
        free -> Nullable<Bool>,
        fees_text -> Nullable<Text>,
        languages -> Text,
        minimum_age -> Nullable<Integer>,
        maximum_age -> Nullable<Integer>,
        eligibility_description -> Nullable<Text>,
        closed_on_public_holidays -> Bool,
        hours_notes -> Nullable<Text>,
        last_verified_at -> Nullable<Timestamp>,
        verified_by -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        open_24_hours -> Bool,
        by_appointment -> Bool,
        review_notified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    service_phones (id) {
        id -> Text,
        service_id -> Text,
        number -> Text,
        description -> Nullable<Text>,
        position -> Integer,
    }
}

diesel::table! {
    service_terms (service_id, term_id) {
        service_id -> Text,
        term_id -> Text,
    }
}

diesel::table! {
    service_service_areas (service_id, area_code) {
        service_id -> Text,
        area_code -> Text,
    }
}

diesel::table! {
    service_at_locations (id) {
        id -> Text,
        service_id -> Text,
        location_id -> Text,
    }
}

diesel::table! {
    schedules (id) {
        id -> Text,
        service_id -> Text,
        location_id -> Nullable<Text>,
        freq -> Text,
        byday -> Text,
        opens_at -> Text,
        closes_at -> Text,
        valid_from -> Nullable<Date>,
        valid_to -> Nullable<Date>,
        description -> Nullable<Text>,
        position -> Integer,
        overnight -> Bool,
    }
}

diesel::table! {
    schedule_exceptions (id) {
        id -> Text,
        service_id -> Text,
        starts_on -> Date,
        ends_on -> Date,
        opens_at -> Nullable<Text>,
        closes_at -> Nullable<Text>,
        description -> Nullable<Text>,
        position -> Integer,
    }
}

diesel::table! {
    change_log (seq) {
        seq -> BigInt,
        entity_type -> Text,
        entity_id -> Text,
        op -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor -> Text,
        at -> Timestamp,
        entity_type -> Text,
        entity_id -> Text,
        action -> Text,
        changes -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        prefix -> Text,
        secret_hash -> Text,
        name -> Text,
        role -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    organisation_members (organisation_id, key_id) {
        organisation_id -> Text,
        key_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    claims (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        role_in_organisation -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        message -> Nullable<Text>,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        key_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    suggestions (id) {
        id -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        changes -> Text,
        message -> Nullable<Text>,
        email -> Nullable<Text>,
        status -> Text,
        submitted_by -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        result_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_flags (id) {
        id -> Text,
        service_id -> Text,
        kind -> Text,
        reason -> Text,
        evidence -> Text,
        raised_at -> Timestamp,
        raised_by -> Text,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
        resolution -> Nullable<Text>,
    }
}

diesel::table! {
    link_checks (id) {
        id -> BigInt,
        url -> Text,
        checked_at -> Timestamp,
        outcome -> Text,
        http_status -> Nullable<Integer>,
        final_url -> Nullable<Text>,
        detail -> Text,
        elapsed_ms -> BigInt,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        service_id -> Text,
        kind -> Text,
        message -> Nullable<Text>,
        email -> Nullable<Text>,
        reporter -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (organisation_id) {
        organisation_id -> Text,
        url -> Text,
        secret -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        organisation_id -> Text,
        event_kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_http_status -> Nullable<Integer>,
        last_detail -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> Text,
        at -> Timestamp,
        http_status -> Nullable<Integer>,
        outcome -> Text,
        detail -> Text,
        elapsed_ms -> BigInt,
    }
}

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::joinable!(locations -> organisations (organisation_id));
diesel::joinable!(services -> organisations (organisation_id));
diesel::joinable!(service_phones -> services (service_id));
diesel::joinable!(service_terms -> services (service_id));
diesel::joinable!(service_terms -> taxonomy_terms (term_id));
diesel::joinable!(service_service_areas -> services (service_id));
diesel::joinable!(service_service_areas -> service_areas (area_code));
diesel::joinable!(service_at_locations -> services (service_id));
diesel::joinable!(service_at_locations -> locations (location_id));
diesel::joinable!(location_accessibility -> locations (location_id));
diesel::joinable!(location_accessibility -> taxonomy_terms (term_id));
diesel::joinable!(schedules -> services (service_id));
diesel::joinable!(schedule_exceptions -> services (service_id));
diesel::joinable!(organisation_members -> api_keys (key_id));
diesel::joinable!(organisation_members -> organisations (organisation_id));
diesel::joinable!(claims -> organisations (organisation_id));
diesel::joinable!(service_flags -> services (service_id));
diesel::joinable!(reports -> services (service_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    taxonomy_terms,
    service_areas,
    locations,
    location_accessibility,
    services,
    service_phones,
    service_terms,
    service_service_areas,
    service_at_locations,
    schedules,
    schedule_exceptions,
    change_log,
    audit_log,
    api_keys,
    organisation_members,
    claims,
    suggestions,
    service_flags,
    link_checks,
    reports,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    instance_secrets,
);
