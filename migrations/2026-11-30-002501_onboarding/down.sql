DROP TABLE onboarding_rule_sent;
DROP TABLE onboarding_rule;
DROP TABLE onboarding_step;
DROP TABLE welcome_panel;
DROP TABLE onboarding_settings;
