//! Numbers as people type them into a form, in French or in English.

use std::str::FromStr;

/// The number `text` holds, as a person types it: spaces around it ignored, and a decimal
/// comma (French, "2,5") read as the decimal point ("2.5"). None when it is not a number of
/// that type (or is empty).
pub fn parse_number<T: FromStr>(text: &str) -> Option<T> {
    text.trim().replace(',', ".").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn a_decimal_comma_reads_as_a_decimal_point() {
        assert_eq!(parse_number::<f64>(" 2,5 "), Some(2.5));
        assert_eq!(parse_number::<f64>("2.5"), Some(2.5));
        assert_eq!(parse_number::<i64>(" 42\n"), Some(42));
    }

    #[test]
    fn what_is_not_a_number_of_the_type_is_none() {
        assert_eq!(parse_number::<f64>(""), None);
        assert_eq!(parse_number::<f64>("deux"), None);
        assert_eq!(parse_number::<f64>("1,2,3"), None);
        assert_eq!(parse_number::<i64>("2,5"), None);
    }
}
