//! The pages' words, one Fluent catalogue per language (`locales/en.ftl`, `locales/fr.ftl`),
//! compiled in. Which language a page speaks: the visitor's choice (the `lang` cookie set by
//! the language switch), else the signed-in member's setting, else `Accept-Language`.

use cenacle_domain::Language;
use chrono::{DateTime, Utc};
use fluent_bundle::{concurrent::FluentBundle, FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

const EN: &str = include_str!("../locales/en.ftl");
const FR: &str = include_str!("../locales/fr.ftl");

type Bundle = FluentBundle<FluentResource>;

fn bundle(language: Language) -> &'static Bundle {
    static BUNDLES: OnceLock<(Bundle, Bundle)> = OnceLock::new();
    let (en, fr) = BUNDLES.get_or_init(|| (load("en", EN), load("fr", FR)));
    match language {
        Language::En => en,
        Language::Fr => fr,
    }
}

fn load(tag: &str, source: &str) -> Bundle {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{tag}.ftl does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![tag.parse().expect("a language tag")]);
    // No Unicode isolation marks around arguments: our pages are left-to-right only, and the
    // marks would show up in titles and attributes.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{tag}.ftl has duplicates: {errors:?}"));
    bundle
}

/// The words of one language, for a page's template.
#[derive(Debug, Clone, Copy)]
pub struct Words(pub Language);

impl Words {
    /// The French or the English of a pair of texts written in both, as the reader reads.
    pub fn pick<T>(&self, fr: T, en: T) -> T {
        match self.0 {
            Language::Fr => fr,
            Language::En => en,
        }
    }

    /// The message `key`; the key itself if the catalogue lacks it (a test checks none does).
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// What is wrong with a field, by the rule's code (`too_long`, `empty`…); a general
    /// message for a code the catalogue does not explain.
    pub fn invalid(&self, code: &str) -> String {
        if self.explains(code) {
            self.t(&format!("invalid-{code}"))
        } else {
            self.t("invalid-field")
        }
    }

    /// Whether the catalogue explains the rule `code` in words of its own.
    pub fn explains(&self, code: &str) -> bool {
        bundle(self.0).has_message(&format!("invalid-{code}"))
    }

    /// The message `key` for a count: `$count` is a number, so the catalogue can choose the
    /// plural form of the language (French counts 0 and 1 as singular, English only 1).
    pub fn count(&self, key: &str, count: i64) -> String {
        let mut args = FluentArgs::new();
        args.set("count", FluentValue::from(count));
        self.format(key, Some(&args))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        let bundle = bundle(self.0);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(key, "missing translation");
            return key.to_owned();
        };
        let mut errors = vec![];
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// The message `key` naming what it applies to (`Move up: Lesson 2`), for a control's
    /// accessible name: French puts a no-break space before the colon, English none.
    pub fn about(&self, key: &str, what: &str) -> String {
        let colon = match self.0 {
            Language::Fr => "\u{a0}:",
            Language::En => ":",
        };
        format!("{}{colon} {what}", self.t(key))
    }

    pub fn code(&self) -> &'static str {
        self.0.as_str()
    }

    /// A date and time as people of this language write it (UTC).
    pub fn date(&self, at: &DateTime<Utc>) -> String {
        match self.0 {
            Language::Fr => at.format("%d/%m/%Y %H:%M").to_string(),
            Language::En => at.format("%b %-d, %Y, %H:%M").to_string(),
        }
    }

    /// A count as people of this language write it (a narrow space groups thousands in
    /// French, a comma in English).
    pub fn number(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let separator = match self.0 {
            Language::Fr => "\u{202f}",
            Language::En => ",",
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(separator);
            }
            out.push(c);
        }
        if n < 0 {
            format!("-{out}")
        } else {
            out
        }
    }
}

/// Every key used by the pages; both catalogues must have each (checked by a test).
#[cfg(test)]
pub(crate) fn keys(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.split_once(" ="))
        .filter(|(key, _)| !key.starts_with(['#', ' ', '.']) && !key.is_empty())
        .map(|(key, _)| key.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys_and_different_words() {
        let (en, fr) = (keys(EN), keys(FR));
        assert_eq!(
            en, fr,
            "the catalogues list the same keys in the same order"
        );
        assert!(en.len() > 20);
        let same: Vec<&String> = en
            .iter()
            .filter(|k| Words(Language::En).t(k) == Words(Language::Fr).t(k))
            .filter(|k| !k.starts_with("brand"))
            .collect();
        assert!(same.len() < 3, "untranslated: {same:?}");
    }

    /// Keys built at run time (a contest's causes) are in both catalogues: `t` would show a
    /// missing one as its bare key.
    #[test]
    fn every_reputation_cause_has_its_words() {
        let (en, fr) = (keys(EN), keys(FR));
        for cause in cenacle_domain::engagement::ReputationCause::ALL {
            let key = format!("cause-{}", cause.as_str());
            assert!(en.contains(&key) && fr.contains(&key), "{key}");
        }
    }

    #[test]
    fn a_control_named_after_its_object_follows_each_languages_typography() {
        let fr = Words(Language::Fr).about("question-delete", "Combien\u{a0}?");
        assert!(
            cenacle_domain::typography::french_spacing_faults(&fr).is_empty(),
            "{fr:?}"
        );
        assert!(fr.contains("\u{a0}: Combien"), "{fr:?}");
        let en = Words(Language::En).about("question-delete", "How many?");
        assert!(en.ends_with(": How many?") && !en.contains(" :"), "{en:?}");
    }

    #[test]
    fn french_words_keep_their_punctuation_on_the_line() {
        let faults: Vec<&str> = FR
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| !cenacle_domain::typography::french_spacing_faults(l).is_empty())
            .collect();
        assert!(faults.is_empty(), "plain spaces in French: {faults:#?}");
    }

    #[test]
    fn field_errors_say_what_is_wrong() {
        assert_eq!(
            Words(Language::Fr).invalid("too_long"),
            "Trop long\u{a0}: raccourcissez-le."
        );
        assert_eq!(
            Words(Language::En).invalid("no_such_code"),
            Words(Language::En).t("invalid-field")
        );
    }

    #[test]
    fn numbers_and_dates_are_localised() {
        assert_eq!(Words(Language::En).number(1234567), "1,234,567");
        assert_eq!(Words(Language::Fr).number(-1234), "-1\u{202f}234");
        assert_eq!(Words(Language::En).number(999), "999");
        let at = DateTime::parse_from_rfc3339("2026-03-04T05:06:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Words(Language::Fr).date(&at), "04/03/2026 05:06");
        assert_eq!(Words(Language::En).date(&at), "Mar 4, 2026, 05:06");
    }

    #[test]
    fn counts_take_their_languages_plural_forms() {
        let (en, fr) = (Words(Language::En), Words(Language::Fr));
        assert_eq!(en.count("answers-count", 0), "0 answers");
        assert_eq!(en.count("answers-count", 1), "1 answer");
        assert_eq!(en.count("answers-count", 3), "3 answers");
        assert_eq!(fr.count("answers-count", 0), "0 réponse");
        assert_eq!(fr.count("answers-count", 1), "1 réponse");
        assert_eq!(fr.count("answers-count", 2), "2 réponses");
    }
}
