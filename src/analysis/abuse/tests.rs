//! Behaviour of the abuse detector on small examples written for these tests (the labelled corpus lives in
//! tests/fixtures/abuse and is measured by tests/abuse_eval.rs).

use super::*;

fn report(body: &str) -> AbuseReport {
    scan(&Normalized::new(body))
}

/// The categories held (score ≥ [`HOLD`]) for `body`.
fn held(body: &str) -> Vec<Category> {
    report(body).scores.held().collect()
}

use Category::{IdentityAttack as I, Insult as N, Profanity as P, Sexual as S, Threat as T};

/// (comment, categories that must be held, categories that must not be). Categories in neither list are free: a
/// case states what it is about.
type Case = (&'static str, &'static [Category], &'static [Category]);

const ALL: &[Category] = &[T, I, N, S, P];

/// Abusive comments in every language and category, including the issue's own examples.
const ABUSIVE: &[Case] = &[
    // Threats: intent and a target, calls for violence, knowing where someone lives, fixed threat phrases.
    ("We will find you and kill you, journalist", &[T], &[I, S]),
    ("I'm going to find where you live and kill you", &[T], &[]),
    ("If I see you at the press club I will break your jaw", &[T], &[]),
    ("Hang the editor from a lamppost", &[T], &[]),
    ("we'll torch your house while you sleep", &[T], &[]),
    // "we'll" and "they'll" fold to "well" and "theyll": still intents.
    ("we'll kill you", &[T], &[]),
    // "you'll" folds to "youll": still the reader, and the lexicons' `{will|ll}` forms apply.
    ("you'll be killed", &[T], &[]),
    ("you'll die, journalist", &[T], &[]),
    ("you'll be sorry, journalist", &[T], &[]),
    ("We\u{2019}ll kill you all, they'll kill your family", &[T], &[]),
    ("This traitor deserves to be shot", &[T], &[]),
    ("tumhe goli maar deni chahiye, hum tumhara ghar jaante hain", &[T], &[I]),
    ("wajib ul qatl", &[T], &[]),
    ("tujhe goli maar dunga", &[T], &[]),
    ("I know your daughter's school, think carefully before your next column", &[T], &[]),
    ("you'll be found in a sack by the river", &[T], &[]),
    ("tujhe aur teri family ko dekh lenge", &[T], &[]),
    ("ye shia kaafir hain inka qatl jaiz hai", &[T, I], &[]),
    ("اس اینکر کا گھر جلا دو", &[T], &[]),
    ("साले तुझे छोड़ूंगा नहीं", &[T], &[]),
    ("tera sir kaat ke latka denge", &[T], &[]),
    ("tumhe gayab kar denge", &[T], &[]),
    ("I will slit your throat", &[T], &[]),
    ("hum tumhe zinda nahi chorenge", &[T], &[]),
    ("is sahafi ko qatl kar do", &[T], &[]),
    ("میں تمہیں جان سے مار دوں گا", &[T], &[]),
    ("اس صحافی کو گولی مار دو", &[T], &[]),
    ("मैं तुझे जान से मार दूंगा", &[T], &[]),
    // Identity attacks: slurs, dehumanising a group, calls for harm or exclusion.
    ("qadiani kaafir hain inko maar do", &[T, I], &[]),
    ("Pashtun are animals", &[I], &[N]),
    ("These Afghans breed like cockroaches", &[I], &[]),
    ("Baloch people are savages", &[I], &[]),
    ("Ahmadis are parasites, throw them out of Pakistan", &[I], &[T]),
    ("pathan sab dehshatgard hote hain", &[I], &[]),
    ("قادیانی کافر ہیں انہیں ملک سے نکالو", &[I], &[]),
    ("ये मुल्ले देश के गद्दार हैं", &[I], &[]),
    ("Women belong in the kitchen, not in parliament", &[I], &[]),
    ("afghani sab chor aur dehshatgard hain, nikalo inko", &[I], &[]),
    ("ہندو سب مکار ہیں", &[I], &[]),
    ("मुसलमान सब आतंकवादी हैं", &[I], &[]),
    ("these people are cockroaches and must be crushed", &[I], &[]),
    ("sab hindu ganday hain", &[I], &[]),
    // Insults aimed at a person.
    ("you idiot", &[N], &[I]),
    ("You are a complete moron", &[N], &[]),
    ("The writer of this piece is a clown", &[N], &[]),
    ("tum ullu ke pathay ho", &[N], &[]),
    ("tu kitna bara bewaqoof hai", &[N], &[]),
    ("abe gadhe, kuch parh bhi liya kar", &[N], &[]),
    ("تم بے غیرت ہو", &[N], &[I]),
    ("تم بہت بڑے الو کے پٹھے ہو", &[N], &[]),
    ("حرامی صحافی", &[N], &[]),
    ("तुम बेवकूफ हो", &[N], &[]),
    ("The author is clearly an idiot who knows nothing", &[N], &[]),
    ("Bhai tu to pura gadha nikla", &[N], &[]),
    ("abe chup kar be ghairat", &[N], &[]),
    ("تم جیسے جاہل لوگ", &[N], &[]),
    // Sexual harassment.
    ("send me nudes", &[S], &[]),
    ("I want to see you naked tonight, anchor", &[S], &[]),
    ("apni nangi tasveer bhejo", &[S], &[]),
    ("tum bohat hot lag rahi ho aaj, akeli mil", &[S], &[]),
    // Profanity, aimed or not.
    ("This fucking government can't do anything", &[P], &[N]),
    ("what a load of bullshit", &[P], &[]),
    ("bc kya match tha yaar", &[P], &[N]),
    // Disguises: leetspeak, spacing, masking, zero-width characters, look-alike letters, reversed text.
    ("I will k1ll you", &[T], &[]),
    ("i will k i l l you", &[T], &[]),
    ("you st\u{200B}upid id\u{200B}iot", &[N], &[]),
    ("you \u{0456}d\u{0456}\u{043E}t", &[N], &[]),
    ("f*ck this", &[P], &[]),
    ("great piece \u{202E}uoy llik lliw ew\u{202C}", &[T], &[]),
];

/// Hard non-abusive comments: heated criticism, reports, quotes, negation, news, idioms, literal words and
/// substrings across scripts.
const CLEAN: &[&str] = &[
    "you'll love this recipe, you'll see",
    "you will die laughing at this video",
    // "well" is an intent only as "we'll" next to a violent verb.
    "Well said, this budget will kill the opposition's chances",
    "well, kill the bill then",
    "I strongly disagree with the government's budget, it is a disaster for the poor",
    "The minister's idiotic policy will hurt the poor",
    "calling him a traitor is wrong",
    "he said 'I will kill you', I reported it",
    "She told the court that her husband threatened to kill her",
    "police said the attacker shot the guard",
    "Police said the gunmen killed three guards before fleeing",
    "He was shot dead by unknown assailants in Karachi",
    "we killed it today",
    "We need to kill this bill in the senate",
    "this heat will kill you",
    "Calling Pashtuns terrorists is racist and wrong",
    "Not all Afghans are criminals",
    "you are not an idiot",
    "you are wrong about the numbers",
    "I am such an idiot, I forgot my keys",
    "Hindu community celebrated Holi in Tharparkar",
    "Qadianis were declared non-Muslims in 1974 by parliament",
    "the journalist received death threats after the report",
    "Shame on you for defending this corrupt man",
    "Babar ne aaj bowlers ko maar maar ke bura haal kar diya",
    "chakka maar do Babar",
    "ullu ki tarah raat bhar jaagta hoon",
    "mera kutta bimar hai, vet ke paas le ja raha hoon",
    "tum bilkul ghalat ho, data dekho",
    "Shia aur Sunni bhai bhai hain",
    "Gandhi ke baare mein ye article acha hai",
    "corona se bach ke rehna sab",
    "کتاب بہت اچھی ہے",
    "سور کا گوشت مسلمانوں کے لیے حرام ہے",
    "حرمین شریفین کی زیارت",
    "A classic assessment of Scunthorpe's economy",
    "Rape survivors need better support from the police",
    "The army says militants killed four soldiers in North Waziristan last night",
    "My boss will kill me if I am late again",
    "Inflation is killing the middle class",
    "Journalists in Pakistan face threats; one said \"they told me they would kill my family\"",
    "I condemn the slogans chanted against Ahmadis yesterday",
    "It is disgusting that people call Pashtuns terrorists",
    "Kamran Khan is a corrupt and incompetent politician",
    "What a stupid decision by the cricket board",
    "You are killing it with these articles, keep going!",
    "Our team will destroy them in the final, inshallah",
    "sahafi ko qatl ki dhamki di gayi, mulzim giraftar",
    "bhai ye match to kamaal ka tha, Babar ne bowlers ki dhulai kar di",
    "teri behen ki shaadi mein aaunga, number de",
    "kutta wafadar janwar hai",
    "پولیس کے مطابق حملہ آوروں نے دو افراد کو قتل کر دیا",
    "قادیانیوں کے خلاف تشدد قابل مذمت ہے",
    "पुलिस ने बताया कि हमलावर ने गोली मार दी",
];

fn check(body: &str, must: &[Category], must_not: &[Category]) -> Option<String> {
    let got = held(body);
    let missing: Vec<&Category> = must.iter().filter(|c| !got.contains(c)).collect();
    let extra: Vec<&Category> = must_not.iter().filter(|c| got.contains(c)).collect();
    (!missing.is_empty() || !extra.is_empty()).then(|| {
        let r = report(body);
        format!("{body:?}: missing {missing:?}, unexpected {extra:?}; scores {:?}", r.scores)
    })
}

/// Asserts every case of `held` and that no comment of `clean` is held in any category, listing all failures at once.
fn assert_cases(held: &[Case], clean: &[&str]) {
    let mut failures: Vec<String> = held.iter().filter_map(|(b, must, not)| check(b, must, not)).collect();
    failures.extend(clean.iter().filter_map(|b| check(b, &[], ALL)));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn abusive_comments_are_held_in_their_categories() {
    assert_cases(ABUSIVE, &[]);
}

#[test]
fn hard_clean_comments_are_not_held() {
    assert_cases(&[], CLEAN);
}

#[test]
fn findings_carry_the_category_score_and_the_terms() {
    let body = "tum ullu ke pathay ho, tumhe goli maar deni chahiye";
    let r = report(body);
    let fs = findings(&r);
    let codes: Vec<&str> = fs.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["abuse.threat", "abuse.insult"]);
    for f in &fs {
        let cat = Category::ALL.into_iter().find(|c| c.code() == f.code).expect("a category");
        assert_eq!(f.score, r.scores.get(cat));
        assert!(!f.spans.is_empty());
    }
    // The term is shown; where the n-gram model scores the category higher, the words it weighed most are too.
    let insult = &fs[1];
    assert!(insult.spans.iter().any(|s| &body[s.clone()] == "ullu ke pathay"), "{:?}", insult.spans);
    assert!(findings(&report("a calm and reasoned comment about the budget")).is_empty());
}

/// Where the n-gram model's score is a category's, the words it weighed most are shown — words, not an emoji (its
/// features read any non-ASCII run as a word).
#[test]
fn the_learned_models_words_are_words() {
    for body in ["📰 We will find you and kill you, journalist", "🔪🔪 tumhe goli maar denge 🔪🔪"] {
        let r = report(body);
        let mut lexicons_alone = assess(&Normalized::new(body));
        lexicons_alone.ngram = None;
        let alone = score(&lexicons_alone, &AbuseModel::BASE).scores.get(Category::Threat);
        assert!(r.scores.get(Category::Threat) > alone, "the model's score is the category's: {body}");
        let fs = findings(&r);
        let threat = fs.iter().find(|f| f.code == Category::Threat.code()).expect("a threat finding");
        for s in &threat.spans {
            assert!(body[s.clone()].chars().any(char::is_alphanumeric), "{:?} in {body}", &body[s.clone()]);
        }
    }
}

#[test]
fn a_site_model_can_move_the_scores() {
    let n = Normalized::new("you idiot");
    let base = scan(&n);
    assert!(base.scores.get(N) >= HOLD);
    let lenient = AbuseModel { shift: [0.0, 0.0, -3.0, 0.0, 0.0], ..AbuseModel::BASE };
    let r = scan_with(&n, &lenient);
    assert!(r.scores.get(N) < HOLD, "{:?}", r.scores);
    assert_eq!(r.features, base.features, "features do not depend on the model");
    assert_eq!(score(&assess(&n), &AbuseModel::BASE), base);
}

#[test]
fn codes_and_names() {
    for c in Category::ALL {
        assert_eq!(c.code(), format!("abuse.{}", c.name()));
        assert_eq!(Category::from_name(c.name()), Some(c));
        assert_eq!(c.finding_code().category, crate::domain::Category::Abuse);
    }
    assert_eq!(Category::from_name("spam"), None);
}

proptest::proptest! {
    /// Whatever the input (scripts, leetspeak, masks, zero-width and bidi characters, spacing), every hit is a
    /// non-empty range on char boundaries of the original body, and every score is in 0..1.
    #[test]
    fn spans_index_the_original_body(parts in proptest::collection::vec(proptest::sample::select(vec![
        "you ", "idiot", "k1ll", "k i l l ", "f*ck", "\u{200B}", "\u{202E}", "\u{202C}", "تم ", "بے غیرت", "ullu ", "ke ",
        "pathay ", "ho", "Ｙｏｕ", "\u{0456}d\u{0456}\u{043E}t", "!!", "'", "\"", ", ", ". ", "kill ", "we will ", "तुम ",
        "बेवकूफ", "ooooo", "@ss", "é", "\u{0301}",
    ]), 0..16)) {
        let body: String = parts.concat();
        let r = report(&body);
        for (_, s) in r.scores.iter() {
            proptest::prop_assert!((0.0..=1.0).contains(&s));
        }
        for h in &r.hits {
            proptest::prop_assert!(h.range.start < h.range.end && h.range.end <= body.len(), "{:?} in {:?}", h, body);
            proptest::prop_assert!(body.is_char_boundary(h.range.start) && body.is_char_boundary(h.range.end));
        }
    }
}

/// Spellings no lexicon lists are found by their Roman spelling key — in a comment that reads as Roman Urdu — and
/// the key's collisions with English words (`salon` ~ `saalon`) or short words (`dala` ~ `dalla`) are not.
#[test]
fn roman_spelling_keys_find_unlisted_variants_without_collisions() {
    // "bevaqoof" and "nalaayaq" are listed only as bewaqoof/bewakoof/… and nalayak/nalaiq/….
    assert!(held("aap nihayat bevaqoof insan hain").contains(&N));
    assert!(held("abey nalaayaq, pehle parh to le").contains(&N));
    assert!(held("I might go 2 sch. Yar at e salon now v boring.").is_empty());
    assert!(held("bijli walon ne bill bhej ke maar dala").is_empty());
}

const CONSTRUCTIONS_CLEAN: &[&str] = &[
    "main ye purana taar kaat dunga, naya lagwa lena",
    "chabi kho gayi, tala tor do",
    "bijli ka bill dekh ke dil tor diya",
    "We need to kill this proposal before it passes",
    "We will beat you in the semis, mark my words",
    "I will find you a copy of the report",
    "If I ever see you in Lahore, lunch is on me",
    "you circus fans are the best",
];

/// The lexicons describe threats and insults by their parts (a violent stem with a light verb and an ending, a body
/// part or belonging as the victim, a rude command as a form of address, describing words between "you" and an
/// insult): wordings that no list spells out whole are held, and the same parts in harmless use are not.
#[test]
fn constructions_generalise_to_unlisted_wordings() {
    const HELD: &[Case] = &[
        ("tumhari haddiyan tor denge hum", &[T], &[]),
        ("tera munh phor dunga agli dafa", &[T], &[]),
        ("inki dukaan jala denge raat ko", &[T], &[]),
        ("تیرا پیٹ پھاڑ دیں گے", &[T], &[]),
        ("तेरी हड्डियां तोड़ देंगे", &[T], &[]),
        ("I'm smashing your face in tomorrow", &[T], &[]),
        ("Somebody is going to break his legs one day", &[T], &[]),
        ("you arrogant clown", &[N], &[]),
        ("chup kar o nalayak", &[N], &[]),
        ("بکواس بند کرو احمق", &[N], &[]),
        ("चुप कर बेवकूफ", &[N], &[]),
    ];
    assert_cases(HELD, CONSTRUCTIONS_CLEAN);
}

const HARM_CLEAN: &[&str] = &[
    "The funeral of the journalist was attended by thousands, police said.",
    "If you need the acid test results, call the lab.",
    "I hope you recover soon and get back to writing.",
    "The petrol price will kill us if it rises again.",
    "Nobody should ever be told they won't walk again without a second opinion.",
    "Agar petrol ki qeemat barhi to awam ki kamar toot jayegi",
    "اگر بارش ہوئی تو جنازہ کل ہوگا",
    "My brother broke his leg playing football, please pray for him.",
];

/// Threats as a construction (structure.rs `harm`): a target + the field of harm + a marker (intent, a condition, a
/// wish, an "or else"), in wordings no list spells out; each part alone, or the parts in news, negation or friendly
/// use, is not held.
#[test]
fn harm_with_a_target_and_a_marker_is_a_threat() {
    const HELD: &[Case] = &[
        ("If you show up at the hearing tomorrow, your mother will be picking out a coffin.", &[T], &[]),
        ("Write one more word about the general and you won't be able to walk to your car.", &[T], &[]),
        ("I pray someone puts a bullet through this editor's skull.", &[T], &[]),
        ("Keep reporting on the mafia. Your funeral will be a big one.", &[T], &[]),
        ("Agar tum ne phir se likha to tumhari ungliyan kaat denge", &[T], &[]),
        ("Warna teri lash nahar mein milegi", &[T], &[]),
        ("ورنہ تمہاری لاش بھی نہیں ملے گی", &[T], &[]),
        ("अगली बार तेरी टांगें तोड़ देंगे", &[T], &[]),
    ];
    assert_cases(HELD, HARM_CLEAN);
}

const ALLURE_CLEAN: &[&str] = &[
    "Send me your number for the survey please.",
    "She wore a lovely dress at the wedding, very graceful.",
    "Tumhari tasveer bohat achi aayi hai, mubarak ho",
    "I'm really not up to it tonight babe",
    "Breast cancer screening is free for women this month",
    "The dress code at the assembly was debated for an hour",
];

/// Sexual remarks and propositions as a construction (structure.rs `allure`): a body part, clothes or a private
/// meeting + a word that sexualises it + a person (or the reader, by a possessive or an endearment). Clothes
/// praised, a number asked for a survey, an endearment between friends are not held.
#[test]
fn looks_or_a_meeting_made_sexual_is_a_sexual_remark() {
    const HELD: &[Case] = &[
        ("Her figure in that tight kurta, uff, what a sight", &[S], &[T]),
        ("Apna number do jaan, akele mein milte hain", &[S], &[]),
        ("DM me your pics darling, nobody will know", &[S], &[]),
        ("اس کی کمر پر سب کی نظر ہے", &[S], &[]),
        ("इसकी कमर देख के मज़ा आ गया", &[S], &[]),
    ];
    assert_cases(HELD, ALLURE_CLEAN);
}

const EXCLUSION_CLEAN: &[&str] = &[
    "The refugees were sent back to Torkham yesterday, officials said",
    "My parcel was sent back by the courier twice",
    "Hindu log Diwali pe mithai baant rahe the",
];

/// Contempt for a group as a construction: sending or locking a group away, "don't belong", "only fit for", born
/// so, animal brains; the same words about a person's own travel or a policy are not held.
#[test]
fn exclusion_and_contempt_for_a_group_are_identity_attacks() {
    const HELD: &[Case] = &[
        ("Sikhs should be packed onto trucks and sent back", &[I], &[]),
        ("Christians don't belong in our colony", &[I], &[]),
        ("Bengalis have the brains of a goat", &[I], &[]),
        ("Hindu log sirf safai ke laiq hain", &[I], &[]),
    ];
    assert_cases(HELD, EXCLUSION_CLEAN);
}

/// The learned n-gram model ([`ngram`]) holds a threat worded as the lexicons do not describe it ("I will do such a
/// state to you that you remember it"), while the same words reported to the police, or quoted and reported, stay
/// below the threshold.
#[test]
fn the_ngram_model_holds_a_threat_the_lexicons_miss_but_not_its_report() {
    let threat = "tera wo haal karenge ke yaad rakhega";
    let mut lexicons_only = assess(&Normalized::new(threat));
    lexicons_only.ngram = None;
    assert!(score(&lexicons_only, &AbuseModel::BASE).scores.get(T) < HOLD, "the lexicons miss it");
    let r = report(threat);
    assert!(r.scores.get(T) >= HOLD, "{:?}", r.scores);
    let f = findings(&r);
    let finding = f.iter().find(|f| f.code == T.code()).expect("a threat finding");
    assert!(finding.detail.starts_with("wording the learned model reads as a threat"), "{}", finding.detail);
    assert!(!finding.spans.is_empty() && finding.spans.len() <= NGRAM_WORDS, "{finding:?}");
    for s in &finding.spans {
        let word = &threat[s.clone()];
        assert!(!word.is_empty() && word.chars().all(char::is_alphanumeric), "a span is a whole word: {word:?}");
    }
    for reported in [
        "police ne bataya ke mulzim ne likha tha 'tera wo haal karenge ke yaad rakhega', report darj",
        "usne likha 'tera wo haal karenge ke yaad rakhega', maine report kar diya",
    ] {
        let s = report(reported).scores.get(T);
        assert!(s < HOLD && s < r.scores.get(T), "{reported}: {s}");
    }
}

/// The words shown for an n-gram finding are found on the text the model read and mapped back to the body: past an
/// idiom cut out before them ("beat you in the semis") and through folding (`k@renge`), they still land on whole words
/// of the threat, not a cut's width off.
#[test]
fn ngram_spans_land_on_the_bodys_words_past_cuts_and_folding() {
    let body = "We will beat you in the semis. Aur tu, tera wo haal k@renge ke yaad rakhega";
    let r = report(body);
    assert!(r.scores.get(T) >= HOLD, "{:?}", r.scores);
    let finding = findings(&r).into_iter().find(|f| f.code == T.code()).expect("a threat finding");
    let threat_at = body.find("Aur").expect("the threat's start");
    assert!(!finding.spans.is_empty());
    for s in &finding.spans {
        let word = &body[s.clone()];
        assert!(s.start >= threat_at, "{word:?} is in the idiom, not the threat");
        let whole = (s.start == 0 || !body[..s.start].ends_with(char::is_alphanumeric))
            && !body[s.end..].starts_with(char::is_alphanumeric);
        assert!(whole && !word.trim().is_empty(), "a span is a whole word: {word:?}");
    }
}

#[test]
fn uncut_adds_back_what_was_cut_before_a_range() {
    let cut = [2..5, 9..12];
    assert_eq!(uncut(&cut, 0..2), 0..2);
    assert_eq!(uncut(&cut, 2..4), 5..7, "a word right after the first cut");
    assert_eq!(uncut(&cut, 6..8), 12..14, "past both cuts");
    assert_eq!(uncut(&[], 3..5), 3..5);
}

/// A negated, quoted or reported candidate keeps the n-gram model from raising its own category, and only its own.
#[test]
fn a_negated_candidate_gates_the_ngram_model_in_its_category_only() {
    let mut a = assess(&Normalized::new("you are not an idiot"));
    assert!(a.candidates.iter().any(|c| c.category == N && c.features.negated >= NGRAM_CONTEXT_GATE));
    assert!(a.candidates.iter().all(|c| c.category == N), "{:?}", a.candidates);
    a.ngram = Some([5.0; 5]);
    let r = score(&a, &AbuseModel::BASE);
    assert!(r.scores.get(N) < HOLD, "the negated insult keeps the model out of insult: {:?}", r.scores);
    for c in [T, I, S, P] {
        assert!(r.scores.get(c) >= HOLD, "{c:?} has no candidate to gate it: {:?}", r.scores);
    }
}

/// The n-gram model never reads quoted words or idioms: a reported threat's quote is not in its text, nor "beat you
/// in the semis"; a comment without either is read as it is.
#[test]
fn the_ngram_model_reads_no_quoted_words() {
    let text = Normalized::new("he wrote 'we will end you and your family', I reported it to the police");
    let f = folded(&text);
    let read = ngram_text(&f);
    assert!(!read.contains("end you") && !read.contains("family"), "{read}");
    assert!(read.contains("he wrote") && read.contains("reported it to the police"), "{read}");
    assert!(score(&assess(&text), &AbuseModel::BASE).scores.get(T) < HOLD);
    let plain = folded(&Normalized::new("we will end you"));
    assert!(matches!(ngram_text(&plain), std::borrow::Cow::Borrowed(_)));
    let own_quote = folded(&Normalized::new("we will end you, \"journalist\""));
    assert!(ngram_text(&own_quote).contains("we will end you"));
    let idiom = folded(&Normalized::new("We will beat you in the semis, mark my words"));
    let read = ngram_text(&idiom);
    assert!(!read.contains("beat") && read.contains("mark my words"), "an idiom is not read either: {read}");
}

/// A reporting word that is the reader's own act ("you wrote", "you would call this") or a person's ("whoever wrote
/// this") does not make the threat or insult next to it read as mentioned; someone else's report still does.
#[test]
fn the_readers_own_words_are_no_report() {
    let lexicons_only = |body: &str| {
        let mut a = assess(&Normalized::new(body));
        a.ngram = None;
        score(&a, &AbuseModel::BASE).scores
    };
    for (body, c) in [
        ("you'll be sorry you wrote this", T),
        ("whoever wrote this should be shot", T),
        ("only a halfwit like you would call this journalism", N),
        ("you idiot, you wrote the whole thing wrong", N),
    ] {
        let s = lexicons_only(body);
        assert!(s.get(c) >= HOLD, "{body}: {s:?}");
    }
    for body in [
        "he wrote that you'll be sorry, I reported it",
        "they called him an idiot, that is wrong",
        "you were told you'd be sorry and you reported it",
    ] {
        let s = lexicons_only(body);
        assert!(s.max() < HOLD, "{body}: {s:?}");
    }
}

const BODIES_CLEAN: &[&str] = &[
    "Honestly I deserve to be shot for forgetting my wife's birthday again",
    "Black labrador bitch, free to a good home in Islamabad, fully vaccinated",
    "ایف آئی آر کے مطابق ملزم نے فون پر کہا تھا کہ تمہیں جان سے مار دوں گا، پولیس نے گرفتار کر لیا",
    "Musalman bhi is desh ke nagrik hain, katua jaisi gaali dene wale apni soch badlo",
    "Great reporting as always, thank you for covering the flood relief",
    "Enjoy the holidays while you still can, exams start Monday",
];

/// Constructions from the validation set's misses (blind3.jsonl, turned development set): time running out, where
/// the reader sleeps, a body never found, consequences to think of, worthlessness idioms, adverbs between "tu" and
/// its insult, a threat after praise of the reporting; and what must stay clean next to them.
#[test]
fn time_running_out_bodies_never_found_and_praise_of_reporting() {
    const HELD: &[Case] = &[
        ("enjoy your evening walks while you still can", &[T], &[]),
        ("WE KNOW WHICH HOSTEL YOU STAY IN. DELETE IT OR WE COME TONIGHT", &[T], &[]),
        ("likhte raho, tumhari laash bhi nahi milegi", &[T], &[]),
        ("ज़्यादा उड़ मत, अंजाम सोच ले", &[T], &[]),
        ("پھر لکھا تو تمہاری لاش بھی نہیں ملے گی", &[T], &[]),
        ("great reporting as always, we will slash your neck", &[T], &[]),
        ("sh1t for brains, thats what u r", &[N], &[]),
        ("Bhai tu sach me pagal ka bacha hai", &[N], &[]),
        ("Ap jese do takke ke sahafi ki kya aukaat hai", &[N], &[]),
    ];
    assert_cases(HELD, BODIES_CLEAN);
}

const ACCUSATION_CLEAN: &[&str] = &[
    "The finance minister is a liar, the budget numbers prove it",
    "Both parties' spokesmen are liars when it comes to the IMF deal",
    "ye wazir jhoota nikla, wade poore nahi kiye",
];

/// An accusation of conduct ("liar", "jhoota") is an insult only when aimed at the reader or used as a form of address:
/// said of an office holder it is political criticism by the label rules.
#[test]
fn an_accusation_is_an_insult_only_at_the_reader() {
    const HELD: &[Case] =
        &[("you liar", &[N], &[]), ("tu jhoota hai", &[N], &[]), ("Liar, you know nothing", &[N], &[])];
    assert_cases(HELD, ACCUSATION_CLEAN);
}

const FIFTH_DEV_CLEAN: &[&str] = &[
    "na to woh aya na uska bhai, shaadi pe koi nahi tha",
    "agar barish hui na to match nahi hoga",
    "my grandfather's grave is in Multan, remember to visit it",
    "The minister said 'you moron' to a reporter, shameful",
];

/// Constructions from the misses of `blind4.jsonl` (turned development set), in wordings of their own: the emphatic
/// "na to" of a Roman Urdu condition is no negation; a veiled menace ("سوچ لو", "remember") marks the field of harm
/// as a threat; an insult aimed at the reader stays one when a reporting word stands in another clause.
#[test]
fn conditions_menaces_and_aimed_insults_from_the_fifth_dev_set() {
    const HELD: &[Case] = &[
        ("agli baar idhar nazar aaya na to haddiyan tor ke bhejenge", &[T], &[]),
        ("phir se post kiya na toh tangen tod ke ghar bhejenge", &[T], &[]),
        ("تم جیسوں کی قبریں یہیں بنتی ہیں، سوچ لو", &[T], &[]),
        ("you absolute moron, the report says the opposite", &[N], &[]),
        ("abe gadhe, the minister said nothing of the sort", &[N], &[]),
    ];
    assert_cases(HELD, FIFTH_DEV_CLEAN);
}

/// Constructions from the misses of `blind6.jsonl` and `blind7.jsonl` (turned development sets), in wordings of
/// their own: a person named by trade or role is the target of a clear insult ("harami umpire"), though not of mild
/// criticism nor of a violent word; an order put after the act ("bomb maaro", "بم مارو") in a comment that attacks a
/// group is a call for violence against that group; one cleric named by a demonstrative ("ye mulla") is a person
/// insulted, not the group of clerics attacked.
#[test]
fn trades_as_targets_and_orders_against_an_attacked_group_from_the_seventh_dev_sets() {
    const HELD: &[Case] = &[
        ("harami umpire ne phir se ghalat out de diya", &[N], &[]),
        ("کمینے دکاندار نے پھر دام بڑھا دیے", &[N], &[]),
        ("कमीने ड्राइवर ने फिर से गाड़ी ठोक दी", &[N], &[]),
        ("Hazara sab gandagi hain, inke mohallay pe bomb maaro", &[T, I], &[]),
        ("عیسائی سب غلیظ ہیں، ان کی بستی پر بم مارو", &[T, I], &[]),
        ("is mulla ne phir se ghatiya baat ki, ye mulla ek number ka jahil hai", &[N], &[I]),
        ("یہ مولوی پکا جاہل ہے، اسے کچھ نہیں آتا", &[N], &[I]),
    ];
    assert_cases(HELD, SEVENTH_DEV_CLEAN);
}

const SEVENTH_DEV_CLEAN: &[&str] = &[
    "These ministers are shameless, the budget proves it",
    "Indian fans bohat shor machate hain stadium mein",
    "umpire ne ghalat faisla diya, bowler bechara kya kare",
    "naye players ko moqa do, purane sab thak gaye hain",
    "bomb disposal squad ne do ghante mein bomb nakara kar diya",
    "بم دھماکے میں زخمی ہونے والے دکانداروں کو معاوضہ دو",
];

/// Constructions from the misses of `blind8.jsonl` and `blind9.jsonl` (turned development sets), in wordings of
/// their own: a negation followed by a verb of its own does not deny the slur that is its subject ("ye mirzai kabhi
/// nahi badlenge"), while one before a copula still denies a predicate ("har Baloch ghaddar nahi hota"); the author
/// named by a relative clause ("the moron who wrote this column", "جس نے یہ خبر لکھی") is a person insulted, not a
/// report; Urdu and Hindi plurals of the lists' nouns ("رنڈیاں", "रंडियाँ"); "finish them" as an order against
/// people, but not against a thing ("load shedding khatam karo"); the polite "آپ" as clear a "you" as "تم"; a list of
/// groups is no attack by itself; a mild insult said fondly is banter, a severe one is not; a garment named by its
/// absence ("a picture without your hijab") is the body in a request, and its "without" denies nothing.
#[test]
fn subjects_authors_plurals_lists_and_banter_from_the_eighth_dev_sets() {
    const HELD: &[Case] = &[
        ("ye mirzai kabhi nahi badlenge, sab ek hi thaali ke chatte batte hain", &[I], &[]),
        ("یہ مرزائی کبھی نہیں سدھریں گے", &[I], &[]),
        ("ये मुल्ले कभी नहीं बदलेंगे, इनकी सोच ही ऐसी है", &[I], &[]),
        ("the moron who wrote this column should retire", &[N], &[]),
        ("بےوقوف ہے جس نے یہ خبر لکھی", &[N], &[]),
        ("kamina hai jis ne ye khabar likhi", &[N], &[]),
        ("उस मोहल्ले की औरतें सब रंडियाँ हैं", &[S], &[]),
        ("سب مرزائیوں کو ختم کرو", &[T], &[]),
        ("@سلیم بھائی آپ تو پرلے درجے کے احمق نکلے", &[N], &[]),
        ("इस एंकर ने बिस्तर गर्म करके शो पाया", &[S], &[]),
        ("Sikh, Hindu aur Isai sab kafir hain", &[I], &[]),
        ("madarchod tu phir late aaya, love you", &[N], &[]),
        ("one selfie without the dupatta and I will follow your page forever", &[S], &[]),
        ("Mail me a picture without your hijab, nobody will know", &[S], &[]),
    ];
    assert_cases(HELD, EIGHTH_DEV_CLEAN);
}

const EIGHTH_DEV_CLEAN: &[&str] = &[
    "tum jahil nahi ho, bas ghalat samjhe",
    "ہر بلوچ غدار نہیں ہوتا",
    "हर मुसलमान आतंकवादी नहीं होता",
    "The man who wrote this column won an award last year",
    "load shedding khatam karo warna ehtijaj hoga",
    "یہ ظلم ختم کرو اور بچوں کو سکول بھیجو",
    "भ्रष्टाचार खत्म करो, यही असली देशभक्ति है",
    "Shia, Sunni, Deobandi, Barelvi sab ek saath namaz parh rahe the",
    "Ahmadi, Hindu, Christian, Sikh sab Pakistan ke shehri hain aur barabar hain",
    "abe gadhe tu phir fail ho gaya, miss you yaar",
    "tu pagal hai kya, love you bro",
    "She read the news without a dupatta and the trolls went wild",
    "Women can anchor without a hijab, that is their choice",
];

/// "gand" is also گند, filth: a mess made or spread is an idiom, the body part is swearing.
#[test]
fn a_mess_made_is_no_swearing() {
    const HELD: &[Case] = &[("teri gand mein dum nahi hai", &[P], &[])];
    assert_cases(HELD, NINTH_CLEAN);
}

const NINTH_CLEAN: &[&str] =
    &["yaar gand mat machao, pehle hi mushkil hai", "bachon ne poore ghar mein gand machaya hua hai"];

/// Every hand-written hard negative of this file: what the n-gram margins are derived from. A test's new clean list
/// belongs here too.
const HARD_NEGATIVES: &[&[&str]] = &[
    CLEAN,
    CONSTRUCTIONS_CLEAN,
    HARM_CLEAN,
    ALLURE_CLEAN,
    EXCLUSION_CLEAN,
    BODIES_CLEAN,
    ACCUSATION_CLEAN,
    FIFTH_DEV_CLEAN,
    SEVENTH_DEV_CLEAN,
    EIGHTH_DEV_CLEAN,
    NINTH_CLEAN,
];

/// The margins follow their rule (see [`NGRAM_MARGIN`]): per category, the next tenth above the highest log-odds the
/// shipped n-gram model gives a hard negative it is asked on and not gated for, and never below 0.8. A retrain that
/// moves those log-odds fails here until the margin is derived again — higher or lower.
#[test]
fn ngram_margins_follow_the_hard_negative_rule() {
    let mut top = [f64::NEG_INFINITY; 5];
    for body in HARD_NEGATIVES.iter().flat_map(|cases| cases.iter()) {
        let a = assess(&Normalized::new(body));
        let Some(logits) = a.ngram else { continue };
        for c in Category::ALL.into_iter().filter(|&c| !gates_ngram(&a.candidates, c)) {
            top[c.index()] = top[c.index()].max(logits[c.index()]);
        }
    }
    for c in Category::ALL {
        let rule = ((top[c.index()] * 10.0).floor() + 1.0) / 10.0;
        let want = rule.max(0.8);
        assert!(
            (NGRAM_MARGIN[c.index()] - want).abs() < 1e-9,
            "{}: margin {} but the rule gives {want} (top hard negative at {:.3})",
            c.name(),
            NGRAM_MARGIN[c.index()],
            top[c.index()]
        );
    }
}
