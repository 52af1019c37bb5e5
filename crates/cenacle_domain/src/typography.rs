//! French typography the catalogues keep: a non-breaking space (U+00A0, or the narrow
//! U+202F) before `:`, `;`, `?`, `!` and `»`, and after `«`. With a plain space a browser or
//! a mail reader may break the line just before the colon, or leave a guillemet alone.

/// The byte offsets in `text` where a plain space stands where French wants a non-breaking
/// one (empty when the text is well spaced).
pub fn french_spacing_faults(text: &str) -> Vec<usize> {
    let mut faults = Vec::new();
    let mut previous: Option<(usize, char)> = None;
    for (at, c) in text.char_indices() {
        if let Some((before, p)) = previous {
            let space_before_mark = p == ' ' && matches!(c, ':' | ';' | '?' | '!' | '»');
            let space_after_guillemet = p == '«' && c == ' ';
            if space_before_mark {
                faults.push(before);
            }
            if space_after_guillemet {
                faults.push(at);
            }
        }
        previous = Some((at, c));
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::french_spacing_faults;

    #[test]
    fn plain_spaces_before_high_marks_and_inside_guillemets_are_faults() {
        assert_eq!(french_spacing_faults("Statut : ouvert"), vec![6]);
        assert_eq!(french_spacing_faults("« Bien »"), vec![2, 7]);
        assert_eq!(french_spacing_faults("Vraiment ?"), vec![8]);
        assert!(french_spacing_faults("Statut\u{a0}: ouvert\u{202f}!").is_empty());
        assert!(french_spacing_faults("«\u{a0}Bien\u{a0}»").is_empty());
        // A URL's colon or a time has no space before it.
        assert!(french_spacing_faults("https://exemple.fr à 10:30").is_empty());
    }
}
