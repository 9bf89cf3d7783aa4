//! The one registry of finding codes (DESIGN §2). Codes are part of the API: stable, dotted, prefixed by their
//! category. README's finding-code table lists the same entries; a test keeps the two in step.

use crate::domain::Category;

/// A registered finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingCode {
    pub code: &'static str,
    pub category: Category,
    /// One line for README and for moderators: what fired and why it matters.
    pub description: &'static str,
}

macro_rules! registry {
    ($( $name:ident = ($code:literal, $cat:ident, $desc:literal); )*) => {
        $( pub const $name: FindingCode = FindingCode { code: $code, category: Category::$cat, description: $desc }; )*
        /// Every registered code, in README order.
        pub const ALL: &[FindingCode] = &[$( $name ),*];
    };
}

registry! {
    PII_EMAIL = ("pii.email", Pii, "An email address, including obfuscated forms such as `name at domain dot com`.");
    PII_PHONE = ("pii.phone", Pii, "A phone number valid for the site's region or with a country code, or a wa.me link.");
    PII_CREDIT_CARD = ("pii.credit_card", Pii, "A payment card number (Luhn, length and issuer range checked).");
    PII_IBAN = ("pii.iban", Pii, "An IBAN (ISO 13616 mod-97 and per-country length checked).");
    PII_IP_ADDRESS = ("pii.ip_address", Pii, "An IPv4 or IPv6 address (not a version string).");
    PII_US_SSN = ("pii.us_ssn", Pii, "A US social security number (invalid area, group and serial excluded).");
    PII_PK_CNIC = ("pii.pk_cnic", Pii, "A Pakistani CNIC number (unhyphenated only with a context word).");
    PII_IN_AADHAAR = ("pii.in_aadhaar", Pii, "An Indian Aadhaar number (Verhoeff check digit).");
    PII_UK_NINO = ("pii.uk_nino", Pii, "A UK National Insurance number.");
    PII_CRYPTO_WALLET = ("pii.crypto_wallet", Pii, "A cryptocurrency wallet address (base58check, bech32, Ethereum).");
    PII_SECRET = ("pii.secret", Pii, "An API key, token, private key block or URL with credentials.");
    SPAM_LINKS = ("spam.links", Spam, "Links: more than the site allows, or as many as the spam model counts against the comment.");
    SPAM_HONEYPOT = ("spam.honeypot", Spam, "The form's hidden honeypot field was filled: a bot.");
    SPAM_TOO_FAST = ("spam.too_fast", Spam, "The form was submitted faster than a person can type.");
    SPAM_BAYES = ("spam.bayes", Spam, "The statistical spam model (naive Bayes over words, word pairs and character 4-grams) rates the text as spam.");
    SPAM_PHRASE = ("spam.phrase", Spam, "A spam phrase in English, Roman Urdu, Urdu or Hindi (earning schemes, betting, \"whatsapp karein\", \"check out my channel\").");
    SPAM_LINK_TARGET = ("spam.link_target", Spam, "A link through a URL shortener or to a messenger invite (wa.me, t.me, chat.whatsapp.com).");
    SPAM_BLOCKED_DOMAIN = ("spam.blocked_domain", Spam, "A link, web address or the author's website on a domain the site blocks (rejects).");
    SPAM_OBFUSCATED_LINK = ("spam.obfuscated_link", Spam, "A web address disguised from link filters: `example[.]com`, `example dot com`.");
    SPAM_OBFUSCATION = ("spam.obfuscation", Spam, "Words disguised with look-alike letters from other scripts or split apart (`c a s i n o`, `v.i.a.g.r.a`).");
    SPAM_REPEATED_CHARS = ("spam.repeated_chars", Spam, "A long run of one repeated character (`!!!!!!`, `$$$$$`).");
    SPAM_SHOUTING = ("spam.shouting", Spam, "Mostly capital letters.");
    SPAM_SYMBOLS = ("spam.symbols", Spam, "A flood of symbols or emoji.");
    SPAM_AUTHOR_WEBSITE = ("spam.author_website", Spam, "The author's website field is set, is a shortener or messenger link, or is linked from the comment.");
    SPAM_AUTHOR_REPUTATION = ("spam.author_reputation", Spam, "Many of the author's earlier comments on this site were rejected.");
    SPAM_DUPLICATE = ("spam.duplicate", Spam, "Near copies of the comment (twelve words or more) posted recently by other authors, or again by the same author: a campaign.");
    SPAM_IP_REPUTATION = ("spam.ip_reputation", Spam, "Many earlier comments from this address on this site were rejected.");
    ABUSE_THREAT = ("abuse.threat", Abuse, "A threat of violence against a person or group (\"I will kill you\", \"we know where you live\", \"wajib ul qatl\"); quoted, reported or negated use scores low.");
    ABUSE_IDENTITY_ATTACK = ("abuse.identity_attack", Abuse, "A slur, or a religious, ethnic, national, gender or sexual group dehumanised or threatened (\"X are animals\", \"inko maar do\").");
    ABUSE_INSULT = ("abuse.insult", Abuse, "An insult aimed at a person: the reader (\"you idiot\", \"tum ullu ke pathay ho\"), the author or another commenter.");
    ABUSE_SEXUAL = ("abuse.sexual", Abuse, "Sexual harassment or explicit sexual language, above all aimed at a person.");
    ABUSE_PROFANITY = ("abuse.profanity", Abuse, "Swearing in English, Roman Urdu, Urdu or Hindi, disguised forms included (`f*ck`, `b.c`).");
    ABUSE_EXTERNAL_UNAVAILABLE = ("abuse.external_unavailable", Abuse, "The site's external abuse classifier did not answer (timeout, overload or error) and the site fails closed: held for review.");
    POLICY_BLOCKED_WORD = ("policy.blocked_word", Policy, "A word on the site's blocked list (rejects).");
    POLICY_SUSPECT_WORD = ("policy.suspect_word", Policy, "A word on the site's suspect list (holds for review).");
    POLICY_BANNED = ("policy.banned", Policy, "The author or address is banned by the site.");
    POLICY_PREMODERATION = ("policy.premoderation", Policy, "The site holds every comment for review.");
    POLICY_FIRST_TIME_AUTHOR = ("policy.first_time_author", Policy, "The site holds an author's first comment for review.");
    POLICY_SURGE = ("policy.surge", Policy, "The thread receives comments faster than the site's surge threshold: held for a cool-down.");
    POLICY_REPORTED = ("policy.reported", Policy, "Readers reported the published comment often enough to hide it pending review.");
}

/// Looks a code up; `None` for codes this build does not know (e.g. read back from a newer replica's record).
pub fn lookup(code: &str) -> Option<&'static FindingCode> {
    ALL.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed_by_their_category() {
        let mut seen = std::collections::HashSet::new();
        for c in ALL {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            let prefix = c.code.split('.').next().unwrap_or_default();
            assert_eq!(prefix.to_uppercase(), c.category.as_str(), "{} has the wrong category", c.code);
        }
    }

    #[test]
    fn readme_lists_every_code() {
        let readme = include_str!("../README.md");
        for c in ALL {
            assert!(readme.contains(&format!("`{}`", c.code)), "README's finding-code table lacks {}", c.code);
        }
    }
}
