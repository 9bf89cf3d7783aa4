//! Spam phrase lists — English, Roman Urdu, Urdu and Hindi — matched whole-word with one Aho-Corasick automaton over
//! the normalised text.
//!
//! # Why lists as well as a model
//!
//! The statistical model only knows the languages it was trained on (the base model: English YouTube comments).
//! The phrases carry what a news site in Pakistan or India sees and the model cannot yet know — "ghar baithe paise
//! kamayen", "whatsapp karein", satta and betting brands, "bina sood qarza", crypto doubling — until the site's own
//! moderators have taught it.
//!
//! # Strength
//!
//! Every phrase has a strength: 1.0 for a phrase that is spam in nearly every use ("check out my channel",
//! "ghar baithe paise"), down to 0.2 for a word that is only suggestive and common in news ("loan", "crypto",
//! "lottery"). The combination learns one weight for the (capped) sum of the strengths of the non-overlapping
//! matches, so the lists' languages borrow what the English phrases taught it.
//!
//! # Spelling variants
//!
//! Roman Urdu has no standard spelling, so patterns are written with alternatives — `{karo|karen|kren}` — and
//! expanded when the automaton is built. Urdu and Hindi patterns go through the same normalisation as comments (so
//! `ي`/`ی`, `ك`/`ک` and the heh forms match each other).
//!
//! Invariant: matching is linear in the text (one automaton pass), whole-word (a pattern never matches inside a
//! longer word: "casino" does not fire in "casinos" unless listed, "loan" not in "loaned").

use super::tokens::{is_word_char, word_key};
use crate::analysis::normalize::Normalized;
use crate::analysis::patterns::expand;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

/// `(strength, patterns)`. Alternatives in braces are expanded (see the module docs).
const PHRASES: &[(f32, &[&str])] = &[
    // ---- English: self-promotion (the YouTube kind)
    (
        1.0,
        &[
            "check out my {channel|chanel|video|videos|new video|music|new song|song|page|profile|website|blog|cover|vid}",
            "check my {channel|chanel|video|videos|new video|music|page|profile}",
            "{subscribe|sub|subscibe|suscribe} to my {channel|chanel|page}",
            "{visit|watch|see} my {channel|chanel|video|profile|page|website|blog}",
            "{please|plz|pls|plse} {subscribe|sub}",
            "{sub4sub|sub 4 sub|sub for sub|sub back|subscribe back|i will sub back|i'll sub back}",
            "like and subscribe",
            "follow me on {instagram|twitter|facebook|tiktok|insta}",
            "{click|tap} {the|this|my} link",
            "link in {my|the} bio",
            "click here",
        ],
    ),
    // ---- English: money, work from home, betting, crypto, loans, prizes
    (
        1.0,
        &[
            "{make|earn|making|earning} money {online|from home|fast|at home|easily}",
            "{earn|make} ${0|00|000|0000|00000}",
            "online earning",
            "{earn|work} from home",
            "{free|get} {gift card|gift cards|giftcards|itunes codes|paypal money|robux|v-bucks|vbucks|diamonds}",
            "{double|triple} your {bitcoin|btc|crypto|money|investment|usdt}",
            "{guaranteed|assured} {profit|profits|returns|income}",
            "{forex|crypto|binary} {signals|trading account manager|options}",
            "investment {plan|plans|platform}",
            "{payday|instant|quick|cash} {loan|loans}",
            "no credit check",
            "{casino|betting} {bonus|tips|app|site}",
            "free spins",
            "{sure|fixed} {win|wins|match|matches|odds}",
            "{1xbet|melbet|mostbet|betway|dafabet|parimatch|4rabet|1win|linebet|22bet|betwinner|bc.game|stake.com}",
            "{you have|you've|you} won",
            "claim your {prize|reward|gift|bonus}",
            "{cheap|buy} {viagra|cialis|followers|likes|views|subscribers}",
            "{hot|lonely} {singles|girls|women} {in your area|near you}",
            "{dm|message|text|contact} me on {whatsapp|telegram|instagram}",
            "{join|join my|join our} {telegram|whatsapp group|telegram channel|telegram group}",
            "{make|earn|making|earning} {a lot of|lots of|extra|real|big|easy|quick} {money|cash|income}",
            "{earn|earning|make|making} {extra|passive|an|a|side} income",
            "free {money|followers|likes|subscribers|views|robux}",
            "{follow|like|sub} {4|for} {follow|like|sub}",
            "{f4f|l4l|s4s}",
        ],
    ),
    // ---- English: engagement bait (comment-section spam that asks for likes and shares)
    (
        0.5,
        &[
            "like this comment",
            "share this {video|song|comment|page}",
            "{please|plz|pls} share",
            "{bonus|cashback} deals",
        ],
    ),
    (
        0.3,
        &[
            "thumbs up if",
            "like if {you|u|ur}",
            "{without|no} {risk|investment}",
            "{get|gain|buy} {followers|subscribers|views|likes}",
        ],
    ),
    (
        0.5,
        &[
            "{subscribe|subscribed|subscribing|subscriber|subscribers}",
            "my {channel|chanel|youtube channel|new video|video|song|music|page|website|blog}",
            "giveaway",
            "{promo|referral|invite} code",
            "{casino|jackpot|viagra|cialis|forex|betting|sportsbook}",
            "{whatsapp|telegram} me",
            "{dm|inbox} me",
            "{limited|special} offer",
            "{work|job} from home",
            "per {day|week|month} from home",
        ],
    ),
    (0.1, &["{bitcoin|crypto|cryptocurrency|usdt|lottery|loan|loans|prize|profit|win|winner|followers|views}"]),
    // ---- Roman Urdu / Hinglish
    (
        1.0,
        &[
            "ghar {baithe|bethe|baithay|bethay|bethy|baithy|baith kar|beth kar|baithkar|bethkar|bethe bethe|baithe baithe} {paise|paisay|pese|pesay|paisy|rupay|rupaye|kamai|kamayi|kamaai|kamayen|kamaen|kamaye|kamao|earning|earn|online|job|income|kamain|kamaiye}",
            "{online|onlain} {earning|kamai|kamayi|kamaai|income}",
            "{paise|paisay|pese|pesay|paisy|paisa|rupay|rupaye|dollar|dollars} {kamao|kamaen|kamayen|kamaye|kamain|kamaiye|kamaein|kamana|kamaen ghar}",
            "{rozana|roz ke|daily|har roz|mahana|monthly|weekly} {income|kamai|kamayi|kamaai|earning} {0|00|000|0000|00000|hazar|hazaar|lakh|k}",
            "{rozana|roz|daily|har roz} {0|00|000|0000|00000} {rupay|rupaye|rs|dollar|dollars|\\$}",
            "{whatsapp|whats app|watsapp|whatsap|watsap|wtsapp|whtsapp|whatsaap|watsaap|wattsapp} {karo|karen|karein|kren|kro|krein|karain|kary|kre|kijiye|kijye|krain|krien|kar|kr|kerain|keren}",
            "{whatsapp|whats app|watsapp|whatsap|watsap|wtsapp} {number|no|nmbr|num|pe|par|per|py} {rabta|contact|msg|message|massage|baat}",
            "{satta|sata} {king|matka|result|number|no|game|bazar|bazaar}",
            "{online|cricket|ipl|psl} {betting|satta|jua|juwa|bet}",
            "bet {lagao|lagaen|lagayen|lagain|lagaye|lagaein|laga kar|lagakar}",
            "{ghar|home} {based|base} {job|jobs|work|kaam}",
            "part time {job|jobs|work|kaam}",
            "{registration|joining|registeration|membership} fee",
            "{no|koi|zero} investment {nahi|nai|nahin|required|needed}",
            "{bina|without} {investment|invesment}",
            "{bitcoin|btc|crypto|usdt|dollar|paise|paisay|raqam|amount} double {karen|karo|karein|kren|hoga|ho jayega|ho jaega|ho jaye ga|ho jaenge|ho jayenge|hon ge}",
            "{guaranteed|guarantee|pakka|100%} {profit|munafa|return|returns|income|kamai}",
            "munafa {kamayen|kamaen|kamao|kamaye}",
            "{asaan|aasan|easy|instant|fori|foran|fauri} {loan|qarza|qarz|karza}",
            "bina {sood|interest|guarantee|zamanat} {ke|k|kay}? {loan|qarza|qarz|karza}",
            "{loan|qarza|qarz|karza} {chahiye|chahye|chaiye|chahiyay|lein|len|hasil karen|hasil karein|hasil kren}",
            "{mera|my|meray|mere|hamara|hamare} {channel|chanel} {subscribe|check|visit|dekhen|dekho|zaroor dekhen}",
            "{channel|chanel} {subscribe|sub} {karen|karo|karein|kren|kro|kar do|kardo|kar den|karden|kr den|krdo}",
            "{link|lnk} {pe|par|per|py} click {karen|karo|karein|kren|kro|kar ke|karke}",
            "{inaam|inam|inaami|prize} {jeeten|jeeto|jeetain|jeetein|jeetay|jeetne}",
            "lucky draw",
            "{free|muft|muftt} {internet|mbs|mb|gb|balance|load}",
            "{inbox|dm} {karo|karen|karein|kren|kro|krein|me aao|mein aayen|karain}",
        ],
    ),
    (0.3, &["ghar {baithe|bethe|baithay|bethay|bethy|baith kar|beth kar}"]),
    (0.1, &["{jackpot|lottery|lotri|lottri}"]),
    (
        0.5,
        &[
            "{rabta|contact|msg|message} {karo|karen|karein|kren|kro|karain|kijiye}",
            "{jua|juwa|jooa}",
            "{job|jobs|naukri|nokri} {offer|available|ki offer}",
            "{investment|invest} {karen|karo|karein|kren|kr ke|karke|kar ke}",
            "double {karen|karo|karein|kren|ho jayega|ho jaega}",
            "{bisp|ehsaas} {registration|8171|payment|raqam|rakam}",
            "click {karen|karo|karein|kren|kro}",
        ],
    ),
    (0.3, &["{jazzcash|jazz cash|easypaisa|easy paisa}", "{follow|share} {karo|karen|karein|kren|kro|kar do}"]),
    // ---- Urdu script
    (
        1.0,
        &[
            "گھر بیٹھے {پیسے|کمائیں|کمائی|کمایئں|آن لائن|ارننگ}",
            "آن لائن {کمائی|ارننگ|کام کر کے پیسے}",
            "{پیسے|رقم|ڈالر} {کمائیں|کماییں|کماؤ|کمایئے}",
            "{روزانہ|ماہانہ} {کمائی|آمدنی|ارننگ} {0|00|000|0000|00000|ہزار|لاکھ}",
            "{واٹس ایپ|وٹس ایپ|واٹس اپ|وٹس اپ|واٹسایپ} {کریں|کرو|کیجیے|کیجئے|پر رابطہ|نمبر پر رابطہ|پر میسج}",
            "{سٹہ|ستہ} {کنگ|مٹکا|نمبر}",
            "{آن لائن|کرکٹ} {جوا|سٹہ|بیٹنگ}",
            "انعام {جیتیں|جیتئے|جیتو}",
            "بغیر {سود|ضمانت|گارنٹی} {کے}? {قرض|قرضہ|لون}",
            "{آسان|فوری} {قرض|قرضہ|لون}",
            "{قرض|قرضہ|لون} حاصل کریں",
            "{گارنٹی|یقینی} منافع",
            "منافع کمائیں",
            "{بٹ کوائن|کرپٹو|ڈالر|رقم|پیسے} ڈبل",
            "چینل {سبسکرائب|سبسکرائیب} {کریں|کرو|کیجیے}",
            "لنک پر کلک کریں",
            "{فری|مفت} {انٹرنیٹ|ایم بی|بیلنس}",
            "گھر بیٹھے کام",
            "رجسٹریشن فیس",
        ],
    ),
    (0.5, &["{سٹہ|جوا|لاٹری}", "رابطہ {کریں|کرو|کیجیے}", "{انویسٹمنٹ|سرمایہ کاری} {کریں|کرو}", "نوکری کی پیشکش"]),
    (0.1, &["{بٹ کوائن|کرپٹو|قرضہ|انعام}"]),
    // ---- Hindi (Devanagari)
    (
        1.0,
        &[
            "घर बैठे {पैसे|कमाएं|कमाई|कमाये|कमाए|काम|ऑनलाइन}",
            "ऑनलाइन {कमाई|अर्निंग|पैसे कमाएं}",
            "पैसे {कमाएं|कमाये|कमाओ|कमाए}",
            "{रोज़ाना|रोजाना|रोज|मासिक} {कमाई|कमाएं|इनकम} {0|00|000|0000|00000|हज़ार|हजार|लाख}",
            "{व्हाट्सएप|व्हाट्सऐप|वॉट्सऐप|व्हाट्सप्प|वाट्सएप} {करें|करो|कीजिए|पर संपर्क|पर मैसेज}",
            "{सट्टा किंग|सट्टा मटका|सट्टा नंबर|ऑनलाइन सट्टा|क्रिकेट सट्टा}",
            "इनाम जीतें",
            "{आसान|इंस्टेंट|तुरंत} लोन",
            "लोन {चाहिए|पाएं|लें}",
            "बिना {ब्याज|गारंटी} {के}? {लोन|कर्ज}",
            "{गारंटीड|पक्का} {मुनाफा|प्रॉफिट|रिटर्न}",
            "{पैसे|बिटकॉइन|क्रिप्टो} डबल",
            "{मेरे|मेरा} चैनल {को}? {सब्सक्राइब|सब्सक्राइब करें|देखें}",
            "चैनल सब्सक्राइब {करें|करो|कीजिए}",
            "लिंक पर क्लिक {करें|करो}",
            "रजिस्ट्रेशन फीस",
        ],
    ),
    (0.5, &["सट्टा", "{जुआ|लॉटरी|जैकपॉट}", "संपर्क {करें|करो}"]),
];

/// The compiled lists.
struct Lists {
    matcher: Option<AhoCorasick>,
    /// Strength of each pattern, by pattern id.
    strength: Vec<f32>,
    /// Single-word patterns by [`word_key`], for words recovered from obfuscation ("c a s i n o").
    words: HashMap<u64, f32>,
}

static LISTS: LazyLock<Lists> = LazyLock::new(build);

fn build() -> Lists {
    let mut patterns: Vec<String> = Vec::new();
    let mut strength = Vec::new();
    let mut words = HashMap::new();
    for &(s, specs) in PHRASES {
        for spec in specs {
            for p in expand(spec) {
                let n = Normalized::new(p.trim()).as_str().split_whitespace().collect::<Vec<_>>().join(" ");
                let n = fold_digits(&n);
                if n.is_empty() {
                    continue;
                }
                if n.chars().all(is_word_char) {
                    let w = words.entry(word_key(&n)).or_insert(0.0f32);
                    *w = w.max(s);
                }
                patterns.push(n);
                strength.push(s);
            }
        }
    }
    // A DFA: the lists are fixed and small enough (see the memory test), and a DFA is the fastest automaton to run.
    let matcher =
        AhoCorasick::builder().match_kind(MatchKind::Standard).kind(Some(AhoCorasickKind::DFA)).build(&patterns).ok();
    Lists { matcher, strength, words }
}

/// One phrase occurrence, in NORMALISED coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseHit {
    pub range: Range<usize>,
    pub strength: f32,
}

/// The non-overlapping phrase occurrences of `text` (normalised), strongest first when matches overlap, in text
/// order.
pub fn find(text: &str) -> Vec<PhraseHit> {
    let lists = &*LISTS;
    let Some(ac) = &lists.matcher else {
        return Vec::new();
    };
    let folded = Folded::new(text);
    let t: &str = &folded.text;
    let mut hits: Vec<PhraseHit> = ac
        .find_overlapping_iter(t)
        .filter(|m| is_whole(t, m.start(), m.end()))
        .map(|m| PhraseHit {
            range: folded.original(m.start()..m.end()),
            strength: lists.strength.get(m.pattern().as_usize()).copied().unwrap_or(0.0),
        })
        // A comment repeating phrases thousands of times says no more than one with a few dozen: bound the work.
        .take(MAX_CANDIDATES)
        .collect();
    // Strongest (then longest) first; keep those that overlap nothing kept before.
    hits.sort_by(|a, b| {
        b.strength.total_cmp(&a.strength).then((b.range.end - b.range.start).cmp(&(a.range.end - a.range.start)))
    });
    let mut kept: Vec<PhraseHit> = Vec::new();
    for h in hits {
        if kept.iter().all(|k| k.range.end <= h.range.start || h.range.end <= k.range.start) {
            kept.push(h);
        }
        if kept.len() >= MAX_HITS {
            break;
        }
    }
    kept.sort_by_key(|h| h.range.start);
    kept
}

/// At most this many phrase occurrences are reported per comment (the feature is capped well below anyway).
const MAX_HITS: usize = 32;

/// At most this many raw matches are considered per comment.
const MAX_CANDIDATES: usize = 1024;

/// ASCII digits folded to `0`, so `{0|00|000}` in a pattern stands for any number of that many digits.
fn fold_digits(s: &str) -> String {
    let mut bytes = s.as_bytes().to_vec();
    for b in &mut bytes {
        if b.is_ascii_digit() {
            *b = b'0';
        }
    }
    // Replacing ASCII bytes by ASCII bytes keeps UTF-8 valid; the fallback is never taken.
    String::from_utf8(bytes).unwrap_or_else(|_| s.to_string())
}

/// The text the automaton reads: digits folded to `0` and runs of spaces collapsed to one, with a map back to the
/// normalised text when the collapsing moved anything. Borrowed when there is nothing to fold.
struct Folded<'a> {
    text: std::borrow::Cow<'a, str>,
    /// `map[i]` = normalised offset of folded byte `i` (with one extra entry for the end); `None` = identity.
    map: Option<Vec<usize>>,
}

impl<'a> Folded<'a> {
    fn new(text: &'a str) -> Folded<'a> {
        if !text.contains("  ") {
            let text = if text.bytes().any(|b| b.is_ascii_digit()) {
                std::borrow::Cow::Owned(fold_digits(text))
            } else {
                std::borrow::Cow::Borrowed(text)
            };
            return Folded { text, map: None };
        }
        let mut out = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(text.len() + 1);
        let mut prev_space = false;
        for (i, c) in text.char_indices() {
            if c == ' ' && prev_space {
                continue;
            }
            prev_space = c == ' ';
            let c = if c.is_ascii_digit() { '0' } else { c };
            for _ in 0..c.len_utf8() {
                map.push(i);
            }
            out.push(c);
        }
        map.push(text.len());
        Folded { text: std::borrow::Cow::Owned(out), map: Some(map) }
    }

    /// The normalised range of a folded range (the last byte's char is included whole).
    fn original(&self, r: Range<usize>) -> Range<usize> {
        let Some(map) = &self.map else {
            return r;
        };
        let start = map.get(r.start).copied().unwrap_or(0);
        let end = match r.end.checked_sub(1).and_then(|last| map.get(last)) {
            // The folded char ending at r.end starts at a normalised offset; add its length (same char, same size).
            Some(&s) => s + self.text.get(..r.end).and_then(|t| t.chars().next_back()).map_or(0, char::len_utf8),
            None => start,
        };
        start..end.max(start)
    }
}

/// Strength of a single normalised word if it is on the lists (for words recovered from obfuscation).
pub fn word_strength(word: &str) -> Option<f32> {
    LISTS.words.get(&word_key(word)).copied()
}

/// Words spammers disguise (`c a s i n o`, `W.h.a.t.s.a.p.p`, `cаsino` with a Cyrillic а): recovering one of these
/// from an obfuscated form is strong evidence of intent, whatever the word's own strength. Sorted.
const DISGUISED: &[&str] = &[
    "bet",
    "betting",
    "bitcoin",
    "casino",
    "channel",
    "cialis",
    "crypto",
    "earn",
    "earning",
    "free",
    "instagram",
    "jackpot",
    "loan",
    "money",
    "onlyfans",
    "porn",
    "satta",
    "sex",
    "subscribe",
    "telegram",
    "viagra",
    "whatsapp",
    "xxx",
];

/// Whether a word recovered from obfuscation is one spammers disguise (see `DISGUISED`) or on the phrase lists.
pub fn is_disguised_target(word: &str) -> bool {
    DISGUISED.binary_search(&word).is_ok() || word_strength(word).is_some()
}

/// Whole-word: where the pattern starts (ends) with a word character, the text must not continue the word.
fn is_whole(text: &str, start: usize, end: usize) -> bool {
    let (Some(pat), Some(before), Some(after)) = (text.get(start..end), text.get(..start), text.get(end..)) else {
        return false;
    };
    let edge = |inner: Option<char>, outer: Option<char>| match (inner, outer) {
        (Some(i), Some(o)) if is_word_char(i) => !is_word_char(o),
        _ => true,
    };
    edge(pat.chars().next(), before.chars().next_back()) && edge(pat.chars().next_back(), after.chars().next())
}

/// Forces the lists to be built (start-up, benchmarks).
pub fn warm_up() {
    LazyLock::force(&LISTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(body: &str) -> Vec<String> {
        let n = Normalized::new(body);
        find(n.as_str()).into_iter().map(|h| body[n.original_range(h.range)].to_string()).collect()
    }

    #[test]
    fn expansion_stays_small() {
        let total: usize = PHRASES.iter().flat_map(|(_, s)| s.iter()).map(|s| expand(s).len()).sum();
        assert!(total < 20_000, "{total} patterns");
    }

    #[test]
    fn english_roman_urdu_urdu_hindi() {
        assert_eq!(found("Please CHECK OUT MY CHANNEL!"), vec!["CHECK OUT MY CHANNEL"]);
        assert_eq!(found("ghar bethe paise kamayen, whatsapp kren"), vec!["ghar bethe paise", "whatsapp kren"]);
        assert_eq!(found("گھر بیٹھے پیسے کمائیں"), vec!["گھر بیٹھے پیسے"]);
        assert_eq!(found("घर बैठे पैसे कमाएं"), vec!["घर बैठे पैसे"]);
        assert_eq!(found("Ｓａｔｔａ ＫＩＮＧ result"), vec!["Ｓａｔｔａ ＫＩＮＧ"]);
    }

    #[test]
    fn tricky_negatives() {
        assert!(found("the subscription model of newspapers").is_empty(), "subscribe is not subscription");
        assert_eq!(found("ghar baithe tabsre karna asaan hai"), vec!["ghar baithe"], "weak on its own");
        assert!(found("satta mein aane ke baad sab bhool gaye").is_empty(), "satta = power");
        assert!(found("The IMF loaned Pakistan money").is_empty());
    }

    #[test]
    fn numbers_and_extra_spaces() {
        assert_eq!(found("earn $500 daily"), vec!["earn $500"]);
        assert_eq!(found("rozana  5000 rupay"), vec!["rozana  5000 rupay"]);
        assert_eq!(found("x 100% munafa"), vec!["100% munafa"]);
    }

    #[test]
    fn overlaps_keep_the_strongest() {
        let n = Normalized::new("ghar baithe paise");
        let hits = find(n.as_str());
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].strength, 1.0);
    }

    #[test]
    fn automaton_is_built_and_small() {
        let ac = LISTS.matcher.as_ref().expect("the lists compile");
        assert!(ac.patterns_len() > 1000);
        assert!(ac.memory_usage() < 16 << 20, "{} bytes", ac.memory_usage());
        println!("{} patterns, {} KiB", ac.patterns_len(), ac.memory_usage() >> 10);
    }

    #[test]
    fn repeated_phrases_are_bounded() {
        let text = "ghar baithe paise ".repeat(50_000);
        let hits = find(&text);
        assert_eq!(hits.len(), MAX_HITS);
    }

    #[test]
    fn disguised_list_is_sorted() {
        assert!(DISGUISED.windows(2).all(|w| w[0] < w[1]));
        assert!(is_disguised_target("whatsapp") && is_disguised_target("casino") && !is_disguised_target("pmln"));
    }

    #[test]
    fn single_words_for_deobfuscation() {
        assert_eq!(word_strength("casino"), Some(0.5));
        assert_eq!(word_strength("1xbet"), Some(1.0));
        assert_eq!(word_strength("cricket"), None);
    }
}
