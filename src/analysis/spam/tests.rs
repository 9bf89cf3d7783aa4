//! End-to-end tests of `assess`: findings and their spans, behaviour, history, model deltas, robustness.

use super::*;
use crate::analysis::domains::DomainLists;
use crate::domain::{Category, Duplicates};
use proptest::prelude::*;

fn input() -> SpamInput<'static> {
    SpamInput::default()
}

fn run_with(body: &str, input: &SpamInput<'_>) -> SpamReport {
    assess(body, &Normalized::new(body), input, base_model())
}

fn run(body: &str) -> SpamReport {
    run_with(body, &input())
}

fn codes_of(r: &SpamReport) -> Vec<&str> {
    let mut v: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    v.sort();
    v
}

fn spans_of<'a>(body: &'a str, r: &SpamReport, code: &str) -> Vec<&'a str> {
    r.findings.iter().filter(|f| f.code == code).flat_map(|f| f.spans.iter().map(|s| &body[s.clone()])).collect()
}

const HAM: &[&str] = &[
    "The council approved the new budget after a long debate; residents seem happy.",
    "Babar Azam ko captaincy chhor kar sirf batting pe focus karna chahiye",
    "کراچی میں اسٹریٹ کرائم بہت بڑھ گیا ہے، پولیس کہاں ہے",
    "IMF ka loan lena majboori hai lekin qarzon ka bojh awaam pe hi aata hai",
    "Source: https://www.dawn.com/news/1234567 — worth reading in full.",
];

#[test]
fn ordinary_comments_pass_without_findings_that_matter() {
    for body in HAM {
        let r = run(body);
        assert!(r.score < 0.5, "{body}: {r:?}");
        assert!(r.findings.iter().all(|f| f.category == Category::Spam));
    }
}

#[test]
fn spam_is_held_or_rejected_and_explained() {
    let body = "Ghar baithe paise kamayen! Rozana 5000. WhatsApp karein 0300-1234567";
    let r = run(body);
    assert!(r.score >= 0.9, "{r:?}");
    assert_eq!(spans_of(body, &r, "spam.phrase"), vec!["Ghar baithe paise", "WhatsApp karein"]);
    let body = "Check out my channel https://bit.ly/xyz and subscribe!!!!!!";
    let r = run(body);
    assert!(r.score >= 0.9);
    // `!!!!!!` counts a little but is not worth a finding of its own.
    assert_eq!(codes_of(&r), vec!["spam.bayes", "spam.link_target", "spam.links", "spam.phrase"]);
    assert_eq!(spans_of(body, &r, "spam.link_target"), vec!["https://bit.ly/xyz"]);
    assert!(!spans_of(body, &r, "spam.bayes").is_empty(), "the model points at its words");
}

#[test]
fn the_model_alone_holds_but_does_not_reject() {
    // English that YouTube's spammers use ("check out", "website") on a news site: held at most.
    let r = run("Check out the full report on the ministry website, it has more details.");
    assert!(r.score < 0.9, "{r:?}");
}

#[test]
fn approved_comments_carry_no_spam_findings() {
    for body in ["Great reporting, thank you!", "Thanks for the article", "mera number 0300-1234567 hai, rabta karein"]
    {
        let r = run(body);
        assert!(r.score < 0.5, "{body}: {r:?}");
        assert!(r.findings.is_empty(), "{body}: {:?}", r.findings);
    }
}

#[test]
fn the_site_prior_moves_the_log_odds_by_bayes_rule() {
    let body = "Please share this with everyone";
    let on_training = run_with(body, &SpamInput { site_prior: None, ..input() }).text_probability;
    let on_site = run(body).text_probability;
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let shift = prior_shift(base_model(), DEFAULT_SITE_PRIOR);
    assert!(shift < -1.0);
    assert!((logit(on_site) - logit(on_training) - shift).abs() < 1e-9);
    assert_eq!(prior_shift(base_model(), 1.5), 0.0, "nonsense priors are ignored");
}

#[test]
fn spans_index_the_original_body() {
    // Fullwidth letters and a zero-width joiner: normalised away, but spans cover what the user typed.
    let body = "ＣＨＥＣＫ ＯＵＴ my chan\u{200D}nel";
    let r = run(body);
    assert_eq!(spans_of(body, &r, "spam.phrase"), vec!["ＣＨＥＣＫ ＯＵＴ my chan\u{200D}nel"]);
}

#[test]
fn finding_scores_explain_their_contribution() {
    let r = run("Ghar baithe paise kamayen, whatsapp karein");
    let phrase = r.findings.iter().find(|f| f.code == "spam.phrase").expect("phrase finding");
    let c = base_model().calibration().weights[combine::PHRASE];
    assert!((phrase.score - sigmoid(2.0 * c)).abs() < 1e-9, "score = sigmoid(weight x 2 strong phrases)");
}

#[test]
fn honeypot_alone_rejects_and_too_fast_holds() {
    let clean = HAM[0];
    let honeypot = SpamInput { signals: Signals { honeypot_filled: true, ..Default::default() }, ..input() };
    let r = run_with(clean, &honeypot);
    assert!(r.score >= 0.99);
    assert!(codes_of(&r).contains(&"spam.honeypot"));
    let instant = SpamInput { signals: Signals { time_to_submit_ms: Some(0), ..Default::default() }, ..input() };
    assert!(run_with(clean, &instant).score >= 0.85);
    let fast = SpamInput { signals: Signals { time_to_submit_ms: Some(900), ..Default::default() }, ..input() };
    let r = run_with(clean, &fast);
    assert!(r.score >= 0.5 && r.score < 0.9, "fast holds, does not reject: {}", r.score);
    let slow = SpamInput { signals: Signals { time_to_submit_ms: Some(45_000), ..Default::default() }, ..input() };
    assert!(run_with(clean, &slow).score < 0.5);
}

#[test]
fn more_links_than_the_site_allows() {
    let body = "a.example.com b.example.com c.example.com d.example.com e.example.com";
    let r = run_with(body, &SpamInput { max_links: 1, ..input() });
    let links = r.findings.iter().find(|f| f.code == "spam.links").expect("links finding");
    assert_eq!(links.spans.len(), 5);
    assert!(links.score >= links::excess_score(5, 1));
    assert!(r.score >= 0.9);
}

#[test]
fn reputation_shifts_the_score() {
    let body = "Please read my new article about the match.";
    let base = run(body).score;
    let spammer = Reputation { submitted: 6, approved: 0, rejected: 6, spam: 5 };
    let with = |author: Option<Reputation>, ip: Reputation| {
        run_with(body, &SpamInput { context: Context { author, ip, ..Default::default() }, ..input() })
    };
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let r = with(Some(spammer), Reputation::default());
    // bad = 5 spam + half of 1 other rejection; ln((5.5 + 1) / (0 + 1)) = 1.87 in log-odds.
    assert!((logit(r.score) - logit(base) - 6.5f64.ln()).abs() < 1e-6, "{base} -> {}", r.score);
    assert!(codes_of(&r).contains(&"spam.author_reputation"));
    let trusted = Reputation { submitted: 40, approved: 40, ..Default::default() };
    assert!(with(Some(trusted), Reputation::default()).score < base);
    // An address counts half as much as an author.
    let by_ip = with(None, spammer);
    assert!(by_ip.score > base && by_ip.score < r.score);
    assert!(codes_of(&by_ip).contains(&"spam.ip_reputation"));
    // No history: anonymous, no shift; a first-time author, a small one.
    assert_eq!(with(None, Reputation::default()).score, base);
    let newcomer = with(Some(Reputation::default()), Reputation::default());
    assert!((logit(newcomer.score) - logit(base) - FIRST_TIME_AUTHOR_LOGIT).abs() < 1e-6);
    assert!(!codes_of(&newcomer).contains(&"spam.author_reputation"), "a nudge, not a finding");
}

#[test]
fn near_copies_from_other_authors_hold_a_campaign() {
    let body = "The minister's statement on the budget ignores the rising cost of electricity for ordinary families in \
                Karachi and Lahore this summer";
    let with = |copies: u32, sources: u32, own: u32| {
        let duplicates = Duplicates { copies, sources, own };
        run_with(body, &SpamInput { context: Context { duplicates, ..Default::default() }, ..input() })
    };
    let alone = with(0, 0, 0);
    assert!(alone.score < 0.2, "the text alone is ham: {}", alone.score);
    assert!(!codes_of(&alone).contains(&"spam.duplicate"));
    let one = with(1, 1, 0);
    assert!(one.score > alone.score && one.score < 0.5, "one other author is not yet a campaign: {}", one.score);
    let campaign = with(6, 3, 0);
    assert!(campaign.score >= 0.5 && campaign.score < 0.9, "three other authors hold: {}", campaign.score);
    assert!(codes_of(&campaign).contains(&"spam.duplicate"));
    assert_eq!(with(40, 30, 0).score, campaign.score, "the evidence is bounded");
    let spammy = "Earn 50000 rupees daily from home with our new online job, no investment needed, message Ali on \
                  WhatsApp today to join the team";
    let spam_campaign = Context { duplicates: Duplicates { copies: 6, sources: 3, own: 0 }, ..Default::default() };
    let both = run_with(spammy, &SpamInput { context: spam_campaign, ..input() }).score;
    assert!(both >= 0.9 && both > run(spammy).score, "a campaign of spam is rejected: {both}");
    let repeats = with(0, 0, 2);
    assert!(repeats.score > alone.score, "the same author repeating a text raises the score");
}

#[test]
fn author_website_field() {
    let body = HAM[0];
    let r = run_with(body, &SpamInput { website_url: "https://bit.ly/abc", ..input() });
    assert!(r.score > run(body).score);
    // Reported when the comment is held: a shortener as the website of a comment that promotes something.
    let body = "New video on my channel, go watch it";
    let r = run_with(body, &SpamInput { website_url: "https://bit.ly/abc", ..input() });
    assert!(r.score >= 0.5, "{r:?}");
    assert!(codes_of(&r).contains(&"spam.author_website"));
    // The detail never repeats the address itself.
    assert!(r.findings.iter().all(|f| !f.detail.contains("bit.ly")));
}

fn lists(blocked: &[&str], allowed: &[&str]) -> DomainLists {
    DomainLists::new(blocked, allowed)
}

#[test]
fn blocked_domains_reject_whatever_the_text_says() {
    let domains = lists(&["example.com", "casino.tech"], &[]);
    let site = SpamInput { domains: &domains, ..input() };
    for (body, link) in [
        ("Good point, more at https://example.com/story?id=4 for anyone curious.", "https://example.com/story?id=4"),
        ("Good point, more at example.com/story for anyone curious.", "example.com/story"),
        ("Good point, more at NEWS.Example.com for anyone curious.", "NEWS.Example.com"),
        ("Good point, more at ｅｘａｍｐｌｅ.ｃｏｍ for anyone curious.", "ｅｘａｍｐｌｅ.ｃｏｍ"),
        ("Good point, more at example[.]com for anyone curious.", "example[.]com"),
        ("Good point, more at example dot com for anyone curious.", "example dot com"),
        ("Good point, more at casino.tech for anyone curious.", "casino.tech"),
    ] {
        let r = run_with(body, &site);
        assert_eq!(r.score, 1.0, "{body}: {r:?}");
        assert_eq!(spans_of(body, &r, "spam.blocked_domain"), vec![link], "{body}");
        let f = r.findings.iter().find(|f| f.code == "spam.blocked_domain").expect("finding");
        assert_eq!((f.score, f.detail.as_str()), (1.0, "1 link(s) to domains the site blocks"));
        // Without the list the same comment is ordinary.
        assert!(run(body).score < 0.9, "{body}");
    }
    // Tricky negatives: a longer name ending in the domain, the domain inside a path, a lookalike TLD.
    for body in [
        "Good point, more at https://badexample.com/story for anyone curious.",
        "Good point, more at https://dawn.com/example.com for anyone curious.",
        "Good point, more at example.co for anyone curious.",
    ] {
        let r = run_with(body, &site);
        assert!(r.score < 0.9, "{body}: {r:?}");
        assert!(!codes_of(&r).contains(&"spam.blocked_domain"), "{body}");
    }
    // Several links: counted and spanned each.
    let body = "a.example.com and b.example.com";
    let r = run_with(body, &site);
    assert_eq!(spans_of(body, &r, "spam.blocked_domain"), vec!["a.example.com", "b.example.com"]);
}

#[test]
fn a_blocked_website_field_rejects_without_spans() {
    let domains = lists(&["example.com"], &[]);
    let body = HAM[0];
    let r = run_with(body, &SpamInput { domains: &domains, website_url: "https://www.Example.com/me", ..input() });
    assert_eq!(r.score, 1.0);
    let f = r.findings.iter().find(|f| f.code == "spam.blocked_domain").expect("finding");
    assert!(f.spans.is_empty());
    assert_eq!(f.detail, "the author's website is on a domain the site blocks");
    let r = run_with(body, &SpamInput { domains: &domains, website_url: "https://badexample.com", ..input() });
    assert!(r.score < 0.9);
    // Both: the detail counts the links and never names the address.
    let body = "see https://example.com/x";
    let r = run_with(body, &SpamInput { domains: &domains, website_url: "example.com", ..input() });
    let f = r.findings.iter().find(|f| f.code == "spam.blocked_domain").expect("finding");
    assert_eq!(f.detail, "1 link(s) and the author's website on domains the site blocks");
    assert!(r.findings.iter().all(|f| !f.detail.contains("example")));
}

#[test]
fn allowed_domains_do_not_count_against_the_link_limit() {
    let links_to = |host: &str| (1..=5).map(|i| format!("https://{host}/news/{i}")).collect::<Vec<_>>().join(" ");
    let domains = lists(&[], &["ourpaper.com"]);
    let site = SpamInput { domains: &domains, max_links: 3, ..input() };
    let allowed = format!("Earlier coverage: {}", links_to("ourpaper.com"));
    let r = run_with(&allowed, &site);
    assert!(!codes_of(&r).contains(&"spam.links"), "{r:?}");
    assert!(r.score < 0.5, "{r:?}");
    // Subdomains too, and beyond the limit by far.
    let many = (1..=12).map(|i| format!("https://blog.ourpaper.com/{i}")).collect::<Vec<_>>().join(" ");
    assert!(!codes_of(&run_with(&many, &site)).contains(&"spam.links"));
    // The same comment linking elsewhere is over the limit; and without the list, so is ours.
    let other = format!("Earlier coverage: {}", links_to("otherpaper.com"));
    let r = run_with(&other, &site);
    let f = r.findings.iter().find(|f| f.code == "spam.links").expect("links finding");
    assert_eq!(f.spans.len(), 5);
    assert!(r.score >= links::excess_score(5, 3));
    assert!(codes_of(&run_with(&allowed, &SpamInput { max_links: 3, ..input() })).contains(&"spam.links"));
    // Mixed: only the other links count (two, within the limit) and only they are spanned.
    let mixed = format!("{} https://x.example/1 https://x.example/2", links_to("ourpaper.com"));
    let r = run_with(&mixed, &site);
    assert!(r.score < 0.9, "{r:?}");
    for f in r.findings.iter().filter(|f| f.code == "spam.links") {
        assert_eq!(f.detail, "2 link(s); the site allows 3");
        assert_eq!(
            f.spans.iter().map(|s| &mixed[s.clone()]).collect::<Vec<_>>(),
            ["https://x.example/1", "https://x.example/2"]
        );
    }
}

#[test]
fn allowed_domains_are_no_spam_evidence() {
    // A shortener or messenger the site allows is not a link kind; an allowed website is no signal.
    let domains = lists(&[], &["bit.ly", "ourpaper.com"]);
    let site = SpamInput { domains: &domains, ..input() };
    let body = "Check out my channel https://bit.ly/xyz and subscribe!!!!!!";
    assert!(codes_of(&run(body)).contains(&"spam.link_target"));
    assert!(!codes_of(&run_with(body, &site)).contains(&"spam.link_target"));
    let body = "New video on my channel, go watch it";
    let website = SpamInput { website_url: "https://ourpaper.com/staff/ali", ..site };
    assert!(
        run_with(body, &website).score < run_with(body, &SpamInput { website_url: "https://x.example", ..site }).score
    );
    let norm = Normalized::new(body);
    let scan = signals::scan(body, &norm, "https://ourpaper.com/staff/ali", &domains);
    assert_eq!(scan.x[combine::WEBSITE], 0.0);
    // The more specific entry wins: a blocked subdomain of an allowed domain still rejects.
    let domains = lists(&["ads.ourpaper.com"], &["ourpaper.com"]);
    let r = run_with("see https://ads.ourpaper.com/x", &SpamInput { domains: &domains, ..input() });
    assert_eq!(r.score, 1.0);
}

#[test]
fn a_site_delta_adds_to_the_base_counts() {
    let body = "naya scheme aa gaya, abhi join karo aur kamao";
    let before = run(body).text_probability;
    let mut counts = base_model().counts().clone();
    let delta = model::Counts::from_texts(
        (0..20)
            .map(|_| (Normalized::new(body).as_str().to_string(), true))
            .collect::<Vec<_>>()
            .iter()
            .map(|(t, s)| (t.as_str(), *s)),
    );
    counts.add(&delta);
    let site = SpamModel::new(counts, *base_model().calibration());
    let after = assess(body, &Normalized::new(body), &input(), &site).text_probability;
    assert!(after > before + 0.2, "{before} -> {after}");
}

#[test]
fn base_model_is_trained() {
    let m = base_model();
    assert!(m.counts().is_trained());
    assert!(m.counts().entries.len() > 1000);
}

#[test]
fn huge_and_hostile_inputs() {
    for body in ["a".repeat(1 << 20), "💰".repeat(1 << 18), "c a s i n o ".repeat(1 << 16), "x.com ".repeat(1 << 16)]
    {
        let r = run(&body);
        assert!((0.0..=1.0).contains(&r.score));
        assert!(r.findings.iter().all(|f| f.spans.len() <= 64));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_spans_are_valid(body in "\\PC{0,200}", honeypot in any::<bool>(), ms in proptest::option::of(0u32..10_000)) {
        let inp = SpamInput { signals: Signals { honeypot_filled: honeypot, time_to_submit_ms: ms }, ..input() };
        let r = run_with(&body, &inp);
        prop_assert!(r.score.is_finite() && (0.0..=1.0).contains(&r.score));
        prop_assert!(r.text_probability.is_finite());
        for f in &r.findings {
            prop_assert!(f.code.starts_with("spam."));
            prop_assert!((0.0..=1.0).contains(&f.score));
            for s in &f.spans {
                prop_assert!(s.start < s.end && s.end <= body.len());
                prop_assert!(body.is_char_boundary(s.start) && body.is_char_boundary(s.end));
            }
        }
        if r.score >= inp.hold_threshold {
            prop_assert!(!r.findings.is_empty(), "a score that can hold always names a finding");
        }
    }

    #[test]
    fn spammy_mixtures_never_panic(parts in proptest::collection::vec(prop_oneof![
        Just("check out my channel"), Just("ghar baithe paise"), Just("c a s i n o"), Just("wa.me/92300"),
        Just("!!!!!!"), Just("💰💰💰"), Just("cаsino"), Just("bet[.]com"), Just("گھر بیٹھے"), Just(" "), Just("\u{200D}"),
    ], 0..12)) {
        let body: String = parts.concat();
        let r = run(&body);
        prop_assert!((0.0..=1.0).contains(&r.score));
    }
}
