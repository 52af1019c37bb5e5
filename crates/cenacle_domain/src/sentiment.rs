//! The mood of a contribution, in French or English: a lexicon-based score in [-1, 1].
//!
//! The lexicons (`data/sentiment_en.tsv`, `data/sentiment_fr.tsv`) are Cénacle's own, written
//! for support and product conversations, under the code's licence; their headers say so.
//! Rules on top of them, as VADER (Hutto & Gilbert, 2014) applies them:
//! - **negation** flips a word and halves it ("not bad", "pas mal" are mildly positive; "not
//!   good" mildly negative). English negators, and French `ne`/`n'`, reach the next three
//!   words; French `pas` reaches the word before and the next two ("marche pas", "pas mal");
//!   French `plus`/`jamais` only the word before ("ça marche plus"), since "plus rapide" is
//!   "faster". A clause (`. , ; : ! ?`) ends every scope;
//! - **intensifiers** ("very", "très", "vraiment"…) strengthen the next word by half; "at
//!   all" / "du tout" strengthen the clause's negated words by half;
//! - **contrast**: after "but" / "mais", words count 1.5 times, before it half.
//!
//! The sum is brought into [-1, 1] by s / √(s² + 15), VADER's normalisation.

use crate::Language;
use std::{collections::HashMap, sync::OnceLock};

/// A lexicon: exact words, and prefixes (entries ending in `*`).
struct Lexicon {
    words: HashMap<String, f64>,
    prefixes: Vec<(String, f64)>,
}

impl Lexicon {
    fn parse(text: &str) -> Lexicon {
        let mut words = HashMap::new();
        let mut prefixes = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, score) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("lexicon line without a tab: {line}"));
            let score: f64 = score
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("lexicon score: {line}"));
            match word.strip_suffix('*') {
                Some(prefix) => prefixes.push((prefix.to_owned(), score)),
                None => {
                    words.insert(word.to_owned(), score);
                }
            }
        }
        Lexicon { words, prefixes }
    }

    fn score(&self, word: &str) -> Option<f64> {
        self.words.get(word).copied().or_else(|| {
            self.prefixes
                .iter()
                .find(|(prefix, _)| word.starts_with(prefix.as_str()))
                .map(|(_, score)| *score)
        })
    }
}

fn lexicon(language: Language) -> &'static Lexicon {
    static EN: OnceLock<Lexicon> = OnceLock::new();
    static FR: OnceLock<Lexicon> = OnceLock::new();
    match language {
        Language::En => EN.get_or_init(|| Lexicon::parse(include_str!("../data/sentiment_en.tsv"))),
        Language::Fr => FR.get_or_init(|| Lexicon::parse(include_str!("../data/sentiment_fr.tsv"))),
    }
}

/// How far a negator reaches.
#[derive(Clone, Copy)]
struct Reach {
    before: usize,
    after: usize,
}

fn negator(word: &str, language: Language) -> Option<Reach> {
    let forward = Reach {
        before: 0,
        after: 3,
    };
    match language {
        Language::En => matches!(
            word,
            "not"
                | "no"
                | "never"
                | "none"
                | "nothing"
                | "nobody"
                | "neither"
                | "nor"
                | "without"
                | "cannot"
        )
        .then_some(forward),
        Language::Fr => match word {
            "ne" | "n" | "sans" | "aucun" | "aucune" | "rien" | "personne" => Some(forward),
            "pas" => Some(Reach {
                before: 1,
                after: 2,
            }),
            "plus" | "jamais" => Some(Reach {
                before: 1,
                after: 0,
            }),
            _ => None,
        },
    }
}

fn intensifier(word: &str, language: Language) -> bool {
    match language {
        Language::En => matches!(
            word,
            "very"
                | "really"
                | "extremely"
                | "so"
                | "too"
                | "totally"
                | "completely"
                | "absolutely"
                | "incredibly"
                | "super"
        ),
        Language::Fr => matches!(
            word,
            "très"
                | "vraiment"
                | "trop"
                | "tellement"
                | "complètement"
                | "totalement"
                | "absolument"
                | "hyper"
                | "franchement"
        ),
    }
}

fn contrast(word: &str, language: Language) -> bool {
    match language {
        Language::En => matches!(word, "but" | "however"),
        Language::Fr => matches!(word, "mais" | "cependant" | "pourtant"),
    }
}

/// "at all" / "du tout": the clause's negation is strong.
fn negation_strengthened(clause: &[String], language: Language) -> bool {
    let pair = match language {
        Language::En => ("at", "all"),
        Language::Fr => ("du", "tout"),
    };
    clause.windows(2).any(|w| w[0] == pair.0 && w[1] == pair.1)
}

/// The text's clauses, each a list of lowercase words. Apostrophes split words ("n'est" →
/// "n", "est"; "don't" → "do", "not").
fn clauses(text: &str) -> Vec<Vec<String>> {
    let text = text
        .to_lowercase()
        .replace('’', "'")
        .replace("n't", " not")
        .replace("cannot", "can not");
    let mut clauses = vec![Vec::new()];
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '-' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            clauses.last_mut().unwrap().push(std::mem::take(&mut word));
        }
        if matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '\n') {
            clauses.push(Vec::new());
        }
    }
    if !word.is_empty() {
        clauses.last_mut().unwrap().push(word);
    }
    clauses.retain(|c| !c.is_empty());
    clauses
}

/// The mood of `text` in `language`, from -1 (very negative) to 1 (very positive); 0 for a
/// text with no word of the lexicon.
pub fn sentiment(text: &str, language: Language) -> f64 {
    let lexicon = lexicon(language);
    let mut total = 0.0;
    for clause in clauses(text) {
        let mut negated = vec![false; clause.len()];
        for (i, word) in clause.iter().enumerate() {
            if let Some(reach) = negator(word, language) {
                negated[i.saturating_sub(reach.before)..i].fill(true);
                for flag in negated.iter_mut().skip(i + 1).take(reach.after) {
                    *flag = true;
                }
            }
        }
        let strong_negation = negation_strengthened(&clause, language);
        let turn = clause.iter().position(|w| contrast(w, language));
        for (i, word) in clause.iter().enumerate() {
            let Some(mut score) = lexicon.score(word) else {
                continue;
            };
            // "plus" and "pas" are negators, not the words they could also be.
            if negator(word, language).is_some() {
                continue;
            }
            let boosted = (1..=2).any(|back| i >= back && intensifier(&clause[i - back], language));
            if boosted {
                score *= 1.5;
            }
            if negated[i] {
                score *= -0.5;
                if strong_negation {
                    score *= 1.5;
                }
            }
            if let Some(turn) = turn {
                score *= if i > turn { 1.5 } else { 0.5 };
            }
            total += score;
        }
    }
    total / (total * total + 15.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr(text: &str) -> f64 {
        sentiment(text, Language::Fr)
    }

    fn en(text: &str) -> f64 {
        sentiment(text, Language::En)
    }

    #[test]
    fn plain_words_carry_their_sign() {
        assert!(en("This answer is great, thanks!") > 0.3);
        assert!(en("The app is broken and useless") < -0.3);
        assert!(fr("Super réponse, merci !") > 0.3);
        assert!(fr("Application nulle et cassée") < -0.3);
        assert_eq!(en("The meeting is on Tuesday"), 0.0);
    }

    #[test]
    fn negation_turns_a_word_around_and_softens_it() {
        assert!(en("not bad") > 0.0, "{}", en("not bad"));
        assert!(fr("pas mal") > 0.0, "{}", fr("pas mal"));
        assert!(en("not good") < 0.0);
        assert!(fr("ce n'est pas bon") < 0.0);
        assert!(en("it doesn't work") < 0.0);
        assert!(en("It isn't broken") > 0.0);
        // Softened: "not bad" is less than "good".
        assert!(en("not bad") < en("good"));
    }

    #[test]
    fn french_negation_in_its_written_and_spoken_forms() {
        let stopped = fr("ne marche plus du tout");
        assert!(stopped < 0.0, "{stopped}");
        assert!(fr("ça marche plus") < 0.0);
        assert!(fr("ça marche pas") < 0.0);
        assert!(fr("ça ne fonctionne pas") < 0.0);
        // "du tout" makes it worse than without.
        assert!(stopped < fr("ne marche plus"));
        // "plus" before an adjective is "more", not a negation.
        assert!(fr("plus rapide") > 0.0);
        // "sans problème" is good news.
        assert!(fr("installé sans problème") > 0.0);
    }

    #[test]
    fn intensifiers_and_contrast() {
        assert!(en("very good") > en("good"));
        assert!(fr("vraiment nul") < fr("nul"));
        assert!(en("not good at all") < en("not good"));
        // What comes after "but" weighs more.
        assert!(en("The docs are good but the app keeps crashing") < 0.0);
        assert!(fr("L'appli plante mais le support est excellent") > 0.0);
    }

    #[test]
    fn a_clause_ends_the_negation() {
        assert!(en("No. It is great") > 0.3);
    }

    #[test]
    fn the_score_is_bounded() {
        let rave = "amazing ".repeat(200);
        assert!(en(&rave) <= 1.0 && en(&rave) > 0.99);
        let rant = "terrible ".repeat(200);
        assert!(en(&rant) >= -1.0 && en(&rant) < -0.99);
    }

    #[test]
    fn the_lexicons_parse_and_prefixes_match() {
        assert_eq!(lexicon(Language::En).score("complaining"), Some(-2.0));
        assert_eq!(lexicon(Language::Fr).score("génial"), Some(3.0));
        assert!(lexicon(Language::Fr).words.len() > 100);
        assert!(lexicon(Language::En).words.len() > 100);
    }
}
