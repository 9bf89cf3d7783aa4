//! Word lists for obfuscated emails: the top-level domains an obfuscated address may end in, and the everyday words
//! that show `look at this dot com` is prose, not `john at example dot com`.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Common generic TLDs and country-code TLDs (the ones seen in comment spam and contact details, Pakistan and its
/// neighbours, the Gulf, Europe, the Americas).
const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "me", "app", "dev", "ai", "xyz",
    "online", "site", "tech", "store", "shop", "live", "email", "cloud", "pro", "mobi", "name", "tv", "cc", "ws",
    "club", "blog", "news", "page", "link", "top", "work", "world", "today", "space", "website", "digital", "agency",
    "pk", "in", "uk", "us", "ca", "au", "nz", "de", "fr", "es", "it", "nl", "be", "ch", "at", "se", "no", "dk", "fi",
    "pl", "pt", "ie", "gr", "tr", "ru", "ua", "cz", "hu", "ro", "bg", "rs", "hr", "sk", "si", "lt", "lv", "ee", "is",
    "lu", "ae", "sa", "qa", "kw", "bh", "om", "jo", "lb", "eg", "ma", "dz", "tn", "ir", "iq", "af", "bd", "lk", "np",
    "cn", "hk", "tw", "jp", "kr", "sg", "my", "id", "ph", "th", "vn", "br", "mx", "ar", "cl", "pe", "za", "ng", "ke",
    "gh", "eu", "asia",
];

/// TLDs that are also everyday words; with `at`/`dot` spelled as words they count only after a second-level label
/// such as `co` or `com` (`gmail dot co dot in`).
const WORDY: &[&str] =
    &["in", "it", "is", "me", "at", "be", "no", "my", "us", "co", "id", "to", "so", "do", "go", "am", "as", "tv"];

/// Second-level labels under a country code (`com.pk`, `co.uk`).
const SECOND_LEVEL: &[&str] = &["com", "co", "net", "org", "edu", "gov", "ac", "gob", "nic", "ltd", "plc"];

/// Words that end a sentence before `at` ("look at", "meet me at") or start its object ("at the", "at this"), so
/// they are never the local part or the first domain label of an address spelled with words.
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "am", "an", "and", "any", "are", "arrive", "arrived", "as", "at", "back", "bad", "be", "been",
    "best", "better", "born", "but", "by", "come", "dawn", "did", "dinner", "do", "down", "dusk", "eat", "even",
    "every", "first", "five", "for", "four", "from", "get", "go", "good", "great", "guess", "had", "has", "have", "he",
    "her", "here", "him", "his", "home", "i", "im", "in", "is", "it", "its", "just", "large", "last", "laugh",
    "laughing", "least", "live", "lived", "lives", "living", "look", "looked", "looking", "looks", "lunch", "me",
    "meet", "midnight", "more", "most", "my", "night", "noon", "not", "now", "of", "off", "office", "on", "once",
    "one", "only", "or", "our", "out", "over", "play", "played", "playing", "point", "pointing", "present", "random",
    "right", "school", "see", "seen", "she", "shoot", "shot", "sit", "sitting", "so", "some", "stand", "standing",
    "stare", "staring", "stay", "stayed", "still", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "three", "times", "to", "two", "up", "us", "was", "we", "were", "what", "where", "which", "who",
    "why", "will", "with", "work", "worked", "working", "works", "worst", "yell", "you", "your", "yours", "yet",
    "least", "hand", "once", "heart", "peace", "war", "risk", "sea", "once", "cost",
];

/// Mail providers' second-level labels: `ali at gmail.com` is a mailbox even with a real dot.
const MAIL_PROVIDERS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "rocketmail",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "icloud",
    "aol",
    "protonmail",
    "proton",
    "gmx",
    "yandex",
    "zoho",
    "rediffmail",
    "mail",
    "web",
    "t-online",
    "orange",
    "laposte",
    "wanadoo",
    "free",
    "qq",
    "163",
    "naver",
    "inbox",
];

static TLD_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| TLDS.iter().copied().collect());
static STOP_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| STOPWORDS.iter().copied().collect());

pub fn warm_up() {
    LazyLock::force(&TLD_SET);
    LazyLock::force(&STOP_SET);
}

pub fn is_tld(label: &str) -> bool {
    TLD_SET.contains(label)
}

pub fn is_wordy(label: &str) -> bool {
    WORDY.contains(&label)
}

pub fn is_second_level(label: &str) -> bool {
    SECOND_LEVEL.contains(&label)
}

pub fn is_mail_provider(label: &str) -> bool {
    MAIL_PROVIDERS.contains(&label)
}

pub fn is_stopword(word: &str) -> bool {
    STOP_SET.contains(word)
}
