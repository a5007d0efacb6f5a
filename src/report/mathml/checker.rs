//! The output checker: re-tokenises the converter's markup, repairs its known flaws and rejects
//! anything that is not well-formed MathML.

/// MathML Core elements (plus `semantics`/`annotation`) that may appear in the output.
pub(super) const MATHML_ELEMENTS: &[&str] = &[
    "annotation",
    "annotation-xml",
    "maction",
    "math",
    "menclose",
    "merror",
    "mfrac",
    "mi",
    "mmultiscripts",
    "mn",
    "mo",
    "mover",
    "mpadded",
    "mphantom",
    "mprescripts",
    "mroot",
    "mrow",
    "ms",
    "mspace",
    "msqrt",
    "mstyle",
    "msub",
    "msubsup",
    "msup",
    "mtable",
    "mtd",
    "mtext",
    "mtr",
    "munder",
    "munderover",
    "none",
    "semantics",
];

/// Characters that `pulldown-latex` sets as an accent over its base (`\hat`, `\tilde`, …).
pub(super) const ACCENTS: &[char] = &[
    '^', '~', '\u{2c6}', '\u{2dc}', '\u{af}', '\u{2c9}', '\u{2d8}', '\u{2c7}', '\u{b4}', '`',
    '\u{2d9}', '\u{a8}', '\u{2da}', '\u{203e}', '\u{2192}', '\u{20d7}', '\u{302}', '\u{303}',
    '\u{304}', '\u{306}', '\u{307}', '\u{308}', '\u{30c}', '\u{301}', '\u{300}',
];

/// One piece of the converter's output.
#[derive(Debug)]
pub(super) enum Token<'s> {
    Start {
        name: &'s str,
        attrs: Vec<(&'s str, &'s str)>,
        self_closing: bool,
    },
    End(&'s str),
    Text(&'s str),
}

/// Re-tokenise the converter's output and write it back: escape stray `<`, `>` and `&` in
/// text and attribute values, normalise the spacing between attributes, mark accent
/// `<mover>`s, and reject anything that is not exactly one well-nested `<math>` element made
/// of MathML elements, or that contains an `<merror>`.
pub(super) fn check_and_repair(raw: &str) -> Result<String, String> {
    let mut tokens = tokenize(raw)?;

    // Nesting, allowed elements, one root.
    let mut stack: Vec<(&str, usize)> = Vec::new();
    let mut roots = 0;
    let mut accents = Vec::new();
    for (k, token) in tokens.iter().enumerate() {
        match token {
            Token::Start {
                name, self_closing, ..
            } => {
                if !MATHML_ELEMENTS.contains(name) {
                    return Err(format!("unexpected element <{name}>"));
                }
                if *name == "merror" {
                    return Err("the converter reported an error (<merror>)".to_string());
                }
                if stack.is_empty() {
                    if *name != "math" {
                        return Err(format!("top-level element is <{name}>, not <math>"));
                    }
                    roots += 1;
                }
                if !self_closing {
                    stack.push((name, k));
                }
            }
            Token::End(name) => match stack.pop() {
                Some((open, start)) if open == *name => {
                    if *name == "mover" && is_accent_child(&tokens, start, k) {
                        accents.push((start, k));
                    }
                }
                Some((open, _)) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> without a start tag")),
            },
            Token::Text(text) => {
                if stack.is_empty() && !text.trim().is_empty() {
                    return Err(format!("text {text:?} outside <math>"));
                }
            }
        }
    }
    if let Some((open, _)) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err(format!("expected one <math> element, found {roots}"));
    }

    // `<mover>base<mi>^</mi></mover>` → `<mover accent="true">base<mo stretchy="false">^</mo></mover>`.
    for (start, end) in accents {
        if let Token::Start { attrs, .. } = &mut tokens[start] {
            attrs.push(("accent", "true"));
        }
        tokens[end - 3] = Token::Start {
            name: "mo",
            attrs: vec![("stretchy", "false")],
            self_closing: false,
        };
        tokens[end - 1] = Token::End("mo");
    }

    // `<mo>/</mo>` → `<mo lspace="0em" rspace="0em">/</mo>`: a slash is an ordinary symbol in
    // TeX, but MathML's operator dictionary would space it like a binary operator.
    for k in 1..tokens.len().saturating_sub(1) {
        if matches!(tokens[k], Token::Text("/")) && matches!(tokens[k + 1], Token::End("mo")) {
            if let Token::Start {
                name: "mo", attrs, ..
            } = &mut tokens[k - 1]
            {
                if attrs.is_empty() {
                    attrs.extend([("lspace", "0em"), ("rspace", "0em")]);
                }
            }
        }
    }

    let mut out = String::with_capacity(raw.len() + 32);
    for token in &tokens {
        match token {
            Token::Start {
                name,
                attrs,
                self_closing,
            } => {
                out.push('<');
                out.push_str(name);
                for (attr, value) in attrs {
                    out.push(' ');
                    out.push_str(attr);
                    out.push_str("=\"");
                    push_escaped(&mut out, value);
                    out.push('"');
                }
                out.push_str(if *self_closing { " />" } else { ">" });
            }
            Token::End(name) => {
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Token::Text(text) => push_escaped(&mut out, text),
        }
    }
    Ok(out)
}

/// Whether the `<mover>` spanning `tokens[start..=end]` ends in a one-character `<mi>` accent
/// that follows a base.
pub(super) fn is_accent_child(tokens: &[Token<'_>], start: usize, end: usize) -> bool {
    if end < start + 5 {
        return false; // no room for a base before the accent
    }
    let is_mi_start = matches!(
        &tokens[end - 3],
        Token::Start { name: "mi", attrs, self_closing: false } if attrs.is_empty()
    );
    let is_accent = matches!(&tokens[end - 2], Token::Text(t)
        if t.chars().count() == 1 && t.chars().all(|c| ACCENTS.contains(&c)));
    is_mi_start && is_accent && matches!(tokens[end - 1], Token::End("mi"))
}

/// Split the converter's output into tags and text. A `<` that does not begin a tag is
/// text; tags must be `<name attr="value" …>`, `<name …/>` or `</name>`.
pub(super) fn tokenize(raw: &str) -> Result<Vec<Token<'_>>, String> {
    let bytes = raw.as_bytes();
    let mut tokens = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let next_is_alpha = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_alphabetic);
        let closing = bytes[i] == b'<' && bytes.get(i + 1) == Some(&b'/') && next_is_alpha(i + 2);
        if bytes[i] != b'<' || !(closing || next_is_alpha(i + 1)) {
            i += 1;
            continue;
        }
        if text_start < i {
            tokens.push(Token::Text(&raw[text_start..i]));
        }
        let name_start = i + 1 + usize::from(closing);
        let name_end = name_start + name_len(&raw[name_start..]);
        let name = &raw[name_start..name_end];
        let mut j = name_end;
        if closing {
            j += raw[j..].len() - raw[j..].trim_start().len();
            if bytes.get(j) != Some(&b'>') {
                return Err(format!("malformed end tag </{name}"));
            }
            tokens.push(Token::End(name));
            i = j + 1;
            text_start = i;
            continue;
        }
        let mut attrs = Vec::new();
        let self_closing = loop {
            j += raw[j..].len() - raw[j..].trim_start().len();
            match bytes.get(j) {
                Some(b'>') => break false,
                Some(b'/') if bytes.get(j + 1) == Some(&b'>') => {
                    j += 1;
                    break true;
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    let attr_end = j + name_len(&raw[j..]);
                    let attr = &raw[j..attr_end];
                    if !raw[attr_end..].starts_with("=\"") {
                        return Err(format!(
                            "attribute {attr} of <{name}> is not name=\"value\""
                        ));
                    }
                    let value_start = attr_end + 2;
                    let Some(len) = raw[value_start..].find('"') else {
                        return Err(format!("unterminated attribute {attr} of <{name}>"));
                    };
                    attrs.push((attr, &raw[value_start..value_start + len]));
                    j = value_start + len + 1;
                }
                _ => return Err(format!("malformed start tag <{name}")),
            }
        };
        tokens.push(Token::Start {
            name,
            attrs,
            self_closing,
        });
        i = j + 1;
        text_start = i;
    }
    if text_start < bytes.len() {
        tokens.push(Token::Text(&raw[text_start..]));
    }
    Ok(tokens)
}

/// Length of the element or attribute name at the start of `s`.
pub(super) fn name_len(s: &str) -> usize {
    s.bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'_'))
        .count()
}

/// Append `s`, escaping `<`, `>`, `"` and any `&` that does not start a character reference.
pub(super) fn push_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(pos) = rest.find(['<', '>', '"', '&']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos + 1..];
        match rest.as_bytes()[pos] {
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            b'"' => out.push_str("&quot;"),
            _ if starts_with_reference(tail) => out.push('&'),
            _ => out.push_str("&amp;"),
        }
        rest = tail;
    }
    out.push_str(rest);
}

/// Whether `s` (the text after an `&`) begins a character reference such as `nbsp;` or `#x3C;`.
pub(super) fn starts_with_reference(s: &str) -> bool {
    let Some(end) = s.find(';') else {
        return false;
    };
    let body = &s[..end];
    let named = !body.is_empty() && body.bytes().all(|c| c.is_ascii_alphanumeric());
    let numeric = body.strip_prefix('#').is_some_and(|n| {
        let (digits, hex) = match n.strip_prefix(['x', 'X']) {
            Some(h) => (h, true),
            None => (n, false),
        };
        !digits.is_empty()
            && digits.bytes().all(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
    });
    end <= 32 && (named || numeric)
}
