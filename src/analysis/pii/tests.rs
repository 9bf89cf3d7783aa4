//! End-to-end examples of `detect`: one `check(input, expected)` helper, many small cases.

use super::*;

/// The (code, matched original text) pairs `detect` reports for `text` with the default (PK) config.
fn run(text: &str) -> Vec<(String, String)> {
    let norm = Normalized::new(text);
    detect(text, &norm, &PiiConfig::default())
        .into_iter()
        .flat_map(|f| f.spans.into_iter().map(move |s| (f.code.clone(), text[s].to_string())))
        .collect()
}

fn check(text: &str, expected: &[(&str, &str)]) {
    let got = run(text);
    let want: Vec<(String, String)> = expected.iter().map(|(c, v)| (c.to_string(), v.to_string())).collect();
    assert_eq!(got, want, "for {text:?}");
}

#[test]
fn phones() {
    check("mera number 0300-1234567 hai, rabta karein", &[("pii.phone", "0300-1234567")]);
    check("call +92 300 1234567 now", &[("pii.phone", "+92 300 1234567")]);
    check("03001234567", &[("pii.phone", "03001234567")]);
    check("uk: +44 7911 123456", &[("pii.phone", "+44 7911 123456")]);
    check("chat on wa.me/923001234567 ok", &[("pii.phone", "wa.me/923001234567")]);
    check("two: 0300 1234567 0321 7654321", &[("pii.phone", "0300 1234567"), ("pii.phone", "0321 7654321")]);
}

#[test]
fn not_phones() {
    for t in [
        "Rs. 1,500,000 only",
        "on 12/03/2024 at 10:30",
        "ISBN 978-3-16-148410-0",
        "score 245/7 in 50 overs",
        "at 33.6844, 73.0479",
        "order #202403121234 shipped",
        "from 1998-2024",
        "up 45.5% this year",
    ] {
        check(t, &[]);
    }
}

#[test]
fn emails() {
    check("write to ali.khan+news@example.com.pk.", &[("pii.email", "ali.khan+news@example.com.pk")]);
    check("john [at] gmail [dot] com", &[("pii.email", "john [at] gmail [dot] com")]);
    check("meet me at the station", &[]);
    check("look at this dot com bubble", &[]);
}

#[test]
fn cards_ibans_ids() {
    check("card 4111 1111 1111 1111 exp", &[("pii.credit_card", "4111 1111 1111 1111")]);
    check("bad 4111 1111 1111 1112", &[]);
    // Dots and slashes read as card groups too (issue 11); one separator kind throughout, four-digit groups.
    check("pay 4111.1111.1111.1111 ok", &[("pii.credit_card", "4111.1111.1111.1111")]);
    check("pay 4111/1111/1111/1111 ok", &[("pii.credit_card", "4111/1111/1111/1111")]);
    check("bad 4111.1111.1111.1112", &[]);
    check("mixed 4111.1111/1111-1111", &[]);
    check("iban PK36SCBL0000001123456702please", &[("pii.iban", "PK36SCBL0000001123456702")]);
    check("DE89 3704 0044 0532 0130 00", &[("pii.iban", "DE89 3704 0044 0532 0130 00")]);
    check("ssn 123-45-6789", &[("pii.us_ssn", "123-45-6789")]);
    check("cnic 35202-1234567-1", &[("pii.pk_cnic", "35202-1234567-1")]);
    check("nino AB 12 34 56 C.", &[("pii.uk_nino", "AB 12 34 56 C")]);
    check("aadhaar 2345 6789 0124", &[("pii.in_aadhaar", "2345 6789 0124")]);
    check("aadhaar 2345 6789 0125", &[]);
}

#[test]
fn network_wallets_secrets() {
    check("from 192.168.1.20 today", &[("pii.ip_address", "192.168.1.20")]);
    check("update to v1.2.3.4 and version 10.0.0.1", &[]);
    check("addr 2001:db8::1", &[("pii.ip_address", "2001:db8::1")]);
    check("btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", &[("pii.crypto_wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")]);
    check(
        "eth 0x52908400098527886E0F7030069857D2E4169EE7",
        &[("pii.crypto_wallet", "0x52908400098527886E0F7030069857D2E4169EE7")],
    );
    check("key AKIAIOSFODNN7EXAMPLE", &[("pii.secret", "AKIAIOSFODNN7EXAMPLE")]);
    // A bare AWS secret access key (issue 11): no prefix, found by shape and randomness.
    check(
        "use wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok",
        &[("pii.secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")],
    );
    check("db postgres://admin:hunter2@db.example.com/x", &[("pii.secret", "admin:hunter2")]);
}

#[test]
fn spans_are_sorted_and_on_char_boundaries() {
    let text = "رابطہ: 0300-1234567 یا ali@example.com";
    let norm = Normalized::new(text);
    let f = detect(text, &norm, &PiiConfig::default());
    assert_eq!(f.len(), 2);
    assert!(f[0].spans[0].start < f[1].spans[0].start);
    for x in &f {
        assert!(!x.detail.contains("1234567") && !x.detail.contains("ali@"));
    }
}

#[test]
fn default_region_reads_national_numbers() {
    let text = "ring 07911 123456 tonight";
    let norm = Normalized::new(text);
    let gb = PiiConfig { default_region: phonenumber::country::Id::GB };
    let found = detect(text, &norm, &gb);
    assert_eq!(found.len(), 1);
    assert_eq!(&text[found[0].spans[0].clone()], "07911 123456");
    assert!(found[0].detail.contains("(mobile)"), "{}", found[0].detail);
    // In Pakistan the same digits need a phone word ("ring" is one), and then read as British.
    check(text, &[("pii.phone", "07911 123456")]);
    check("see 07911 123456 tonight", &[]);
}

#[test]
fn other_regions_count_next_to_a_phone_word() {
    // (text, the number) on a Pakistani site: valid elsewhere in `phone::CONTEXT_REGIONS`, with a phone word.
    let cases = [
        ("call me at 210-440-3063", "210-440-3063"),
        ("ring (0191) 496 0538 after six", "(0191) 496 0538"),
        ("appelez le 03 26 93 97 66", "03 26 93 97 66"),
        ("whatsapp 058 950 7672", "058 950 7672"),
        ("landline 051-2345678", "051-2345678"),
        ("festnetz 089 12345678", "089 12345678"),
    ];
    for (text, number) in cases {
        check(text, &[("pii.phone", number)]);
        // Without the word, today's precision: none of them counts.
        let bare = text.replace(number, "").trim().to_string() + " ok";
        check(&bare, &[]);
        check(&format!("see {number} later"), &[]);
    }
    // A phone word does not make any digits a phone: still a valid number, written like one.
    check("call 2104403063x", &[]);
    check("phone 1234567890123", &[]);
}

#[test]
fn evasions_are_normalised_away() {
    check("۰۳۰۰-۱۲۳۴۵۶۷", &[("pii.phone", "۰۳۰۰-۱۲۳۴۵۶۷")]);
    check("0300\u{200B}1234567", &[("pii.phone", "0300\u{200B}1234567")]);
    check("ｊｏｈｎ＠ｇｍａｉｌ．ｃｏｍ", &[("pii.email", "ｊｏｈｎ＠ｇｍａｉｌ．ｃｏｍ")]);
}
