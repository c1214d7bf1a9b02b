//! SMTP command lines (RFC 5321 §4.1, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3207
//! STARTTLS, RFC 4954 AUTH): a pure parser from one line (without its CRLF) to a
//! [`Command`] or a [`CommandError`] that names the reply class.

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo(String),
    Helo(String),
    Mail(MailFrom),
    Rcpt(RcptTo),
    Data,
    Rset,
    Noop,
    Quit,
    /// `VRFY <string>`: always answered 252 (we do not disclose subscribers).
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth {
        /// Upper-cased mechanism name.
        mechanism: String,
        /// The optional initial response (base64, or `=` for an empty one).
        initial: Option<String>,
    },
}

/// `MAIL FROM:<reverse-path> [SIZE=n] [BODY=7BIT|8BITMIME] [AUTH=...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFrom {
    /// The reverse path without angle brackets (empty for the null path `<>`).
    pub path: String,
    /// Declared message size (RFC 1870); saturates at `u64::MAX`.
    pub size: Option<u64>,
    pub body: Option<BodyType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    SevenBit,
    EightBitMime,
}

/// `RCPT TO:<forward-path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptTo {
    /// The forward path without angle brackets.
    pub path: String,
}

/// Why a line is not a command we can act on; each maps to one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Not a command we know: `500 5.5.1`.
    Unknown,
    /// A known command with bad arguments: `501 5.5.4 <hint>`.
    Syntax(&'static str),
    /// A MAIL/RCPT parameter we do not support: `555 5.5.4`.
    UnsupportedParameter(String),
    /// Control characters or bytes that are not UTF-8: `500 5.5.2`.
    Encoding,
    /// An HTTP request or proxy CONNECT sent to the SMTP port (cross-protocol
    /// abuse): answer `421` and close, as Postfix does for `smtpd_forbidden_commands`.
    Forbidden,
}

/// Parses one command line (without the line terminator).
pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
    let line = std::str::from_utf8(line).map_err(|_| CommandError::Encoding)?;
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(CommandError::Encoding);
    }
    let line = line.trim_end();
    let (verb, rest) = match line.split_once([' ', '\t']) {
        Some((v, r)) => (v, r.trim_start()),
        None => (line, ""),
    };
    let no_args = |cmd: Command, hint: &'static str| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(CommandError::Syntax(hint))
        }
    };
    match verb.to_ascii_uppercase().as_str() {
        "EHLO" => domain_arg(rest)
            .map(Command::Ehlo)
            .ok_or(CommandError::Syntax(
                "EHLO requires a domain or address literal",
            )),
        "HELO" => domain_arg(rest)
            .map(Command::Helo)
            .ok_or(CommandError::Syntax(
                "HELO requires a domain or address literal",
            )),
        "MAIL" => parse_mail(rest),
        "RCPT" => parse_rcpt(rest),
        "DATA" => no_args(Command::Data, "DATA takes no arguments"),
        "RSET" => no_args(Command::Rset, "RSET takes no arguments"),
        "QUIT" => no_args(Command::Quit, "QUIT takes no arguments"),
        "STARTTLS" => no_args(Command::StartTls, "STARTTLS takes no arguments"),
        "NOOP" => Ok(Command::Noop),
        "HELP" => Ok(Command::Help),
        "VRFY" if rest.is_empty() => Err(CommandError::Syntax("VRFY requires an argument")),
        "VRFY" => Ok(Command::Vrfy),
        "EXPN" => Ok(Command::Expn),
        "AUTH" => {
            let mut words = rest.split_ascii_whitespace();
            let mechanism = words
                .next()
                .ok_or(CommandError::Syntax("AUTH requires a mechanism"))?
                .to_ascii_uppercase();
            let initial = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(CommandError::Syntax("AUTH <mechanism> [initial-response]"));
            }
            Ok(Command::Auth { mechanism, initial })
        }
        "GET" | "POST" | "PUT" | "HEAD" | "CONNECT" | "OPTIONS" if rest.contains("HTTP/") => {
            Err(CommandError::Forbidden)
        }
        _ => Err(CommandError::Unknown),
    }
}

/// The first word of an EHLO/HELO argument.
fn domain_arg(rest: &str) -> Option<String> {
    rest.split_ascii_whitespace().next().map(str::to_string)
}

fn parse_mail(rest: &str) -> Result<Command, CommandError> {
    const HINT: &str = "Syntax: MAIL FROM:<address> [SIZE=n] [BODY=7BIT|8BITMIME]";
    let arg = strip_prefix_ci(rest, "FROM:").ok_or(CommandError::Syntax(HINT))?;
    let (path, params) = parse_path(arg).ok_or(CommandError::Syntax(HINT))?;
    let mut mail = MailFrom {
        path,
        size: None,
        body: None,
    };
    let mut seen_auth = false;
    for param in params.split_ascii_whitespace() {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v))
                if mail.size.is_none()
                    && !v.is_empty()
                    && v.bytes().all(|b| b.is_ascii_digit()) =>
            {
                mail.size = Some(v.parse().unwrap_or(u64::MAX));
            }
            ("SIZE", _) => return Err(CommandError::Syntax("SIZE=<digits>, once")),
            ("BODY", Some(v)) if mail.body.is_none() => {
                mail.body = Some(match v.to_ascii_uppercase().as_str() {
                    "7BIT" => BodyType::SevenBit,
                    "8BITMIME" => BodyType::EightBitMime,
                    _ => return Err(CommandError::UnsupportedParameter(param.to_string())),
                });
            }
            ("BODY", _) => return Err(CommandError::Syntax("BODY=7BIT|8BITMIME, once")),
            // RFC 4954 §5: a server may ignore AUTH= from a client it does not trust
            // to assert identities; we identify partners ourselves.
            ("AUTH", Some(_)) if !seen_auth => seen_auth = true,
            _ => return Err(CommandError::UnsupportedParameter(param.to_string())),
        }
    }
    Ok(Command::Mail(mail))
}

fn parse_rcpt(rest: &str) -> Result<Command, CommandError> {
    const HINT: &str = "Syntax: RCPT TO:<address>";
    let arg = strip_prefix_ci(rest, "TO:").ok_or(CommandError::Syntax(HINT))?;
    let (path, params) = parse_path(arg).ok_or(CommandError::Syntax(HINT))?;
    if path.is_empty() {
        return Err(CommandError::Syntax(HINT));
    }
    if let Some(p) = params.split_ascii_whitespace().next() {
        return Err(CommandError::UnsupportedParameter(p.to_string()));
    }
    Ok(Command::Rcpt(RcptTo { path }))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `<path> params` into the path (brackets and any source route removed) and
/// the parameter string. A space after the colon (`MAIL FROM: <a@b>`, as in the MM4
/// sample transaction) and a path without brackets are tolerated.
fn parse_path(arg: &str) -> Option<(String, &str)> {
    let arg = arg.trim_start();
    if arg.is_empty() {
        return None;
    }
    let (path, params) = if let Some(inner) = arg.strip_prefix('<') {
        let end = inner.find('>')?;
        let params = &inner[end + 1..];
        if !params.is_empty() && !params.starts_with([' ', '\t']) {
            return None;
        }
        (&inner[..end], params)
    } else {
        match arg.split_once([' ', '\t']) {
            Some((p, rest)) => (p, rest),
            None => (arg, ""),
        }
    };
    if path.contains(['<', '>', ' ', '\t']) {
        return None;
    }
    // RFC 5321 §4.1.2: source routes (`@a,@b:user@c`) must be accepted and ignored.
    let path = match path.strip_prefix('@') {
        Some(_) => path.split_once(':').map(|(_, p)| p)?,
        None => path,
    };
    Some((path.to_string(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(path: &str, size: Option<u64>, body: Option<BodyType>) -> Command {
        Command::Mail(MailFrom {
            path: path.into(),
            size,
            body,
        })
    }

    #[test]
    fn parses_simple_commands_case_insensitively() {
        assert_eq!(
            parse(b"ehlo client.example"),
            Ok(Command::Ehlo("client.example".into()))
        );
        assert_eq!(
            parse(b"HELO [192.0.2.1]"),
            Ok(Command::Helo("[192.0.2.1]".into()))
        );
        assert_eq!(parse(b"data"), Ok(Command::Data));
        assert_eq!(parse(b"RSET "), Ok(Command::Rset));
        assert_eq!(parse(b"NOOP anything"), Ok(Command::Noop));
        assert_eq!(parse(b"QUIT"), Ok(Command::Quit));
        assert_eq!(parse(b"HELP"), Ok(Command::Help));
        assert_eq!(parse(b"VRFY bob"), Ok(Command::Vrfy));
        assert_eq!(parse(b"StartTLS"), Ok(Command::StartTls));
    }

    #[test]
    fn parses_mail_from_forms() {
        assert_eq!(
            parse(b"MAIL FROM: <+447779998888/TYPE=PLMN@mms.oper.com>"),
            Ok(mail("+447779998888/TYPE=PLMN@mms.oper.com", None, None))
        );
        assert_eq!(
            parse(b"mail from:<a@b> SIZE=1234 body=8bitmime AUTH=<>"),
            Ok(mail("a@b", Some(1234), Some(BodyType::EightBitMime)))
        );
        assert_eq!(parse(b"MAIL FROM:<>"), Ok(mail("", None, None)));
        assert_eq!(parse(b"MAIL FROM:a@b"), Ok(mail("a@b", None, None)));
        assert_eq!(
            parse(b"MAIL FROM:<@relay.a,@relay.b:user@c>"),
            Ok(mail("user@c", None, None))
        );
        assert_eq!(
            parse(b"MAIL FROM:<a@b> SIZE=99999999999999999999999"),
            Ok(mail("a@b", Some(u64::MAX), None))
        );
    }

    #[test]
    fn rejects_bad_mail_from() {
        for bad in [
            &b"MAIL"[..],
            b"MAIL TO:<a@b>",
            b"MAIL FROM:",
            b"MAIL FROM:<a@b",
            b"MAIL FROM:<a@b>SIZE=1",
            b"MAIL FROM:<a@b> SIZE=x",
            b"MAIL FROM:<a@b> SIZE=1 SIZE=2",
            b"MAIL FROM:<a <b>",
        ] {
            assert!(
                matches!(parse(bad), Err(CommandError::Syntax(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            parse(b"MAIL FROM:<a@b> RET=FULL"),
            Err(CommandError::UnsupportedParameter("RET=FULL".into()))
        );
        assert_eq!(
            parse(b"MAIL FROM:<a@b> BODY=BINARYMIME"),
            Err(CommandError::UnsupportedParameter("BODY=BINARYMIME".into()))
        );
    }

    #[test]
    fn parses_rcpt_to() {
        assert_eq!(
            parse(b"RCPT TO: <+447778889999/TYPE=PLMN@mms.domain.com>"),
            Ok(Command::Rcpt(RcptTo {
                path: "+447778889999/TYPE=PLMN@mms.domain.com".into()
            }))
        );
        assert!(matches!(parse(b"RCPT TO:<>"), Err(CommandError::Syntax(_))));
        assert!(matches!(
            parse(b"RCPT FROM:<a@b>"),
            Err(CommandError::Syntax(_))
        ));
        assert_eq!(
            parse(b"RCPT TO:<a@b> NOTIFY=NEVER"),
            Err(CommandError::UnsupportedParameter("NOTIFY=NEVER".into()))
        );
    }

    #[test]
    fn parses_auth() {
        assert_eq!(
            parse(b"AUTH login"),
            Ok(Command::Auth {
                mechanism: "LOGIN".into(),
                initial: None
            })
        );
        assert_eq!(
            parse(b"AUTH PLAIN AHRlc3QAdGVzdA=="),
            Ok(Command::Auth {
                mechanism: "PLAIN".into(),
                initial: Some("AHRlc3QAdGVzdA==".into())
            })
        );
        assert!(matches!(parse(b"AUTH"), Err(CommandError::Syntax(_))));
    }

    #[test]
    fn random_lines_never_panic() {
        let mut state = 0xD1B5_4A32_D192_ED03u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"MAILFROMRCPTO:<>@ =SIZEBODY8bitmime\xc3\xa9\xff\t,+/";
        for _ in 0..50_000 {
            let line: Vec<u8> = (0..next() % 60)
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            let _ = parse(&line);
            let mut mail = b"MAIL FROM:".to_vec();
            mail.extend_from_slice(&line);
            let _ = parse(&mail);
        }
    }

    #[test]
    fn classifies_garbage() {
        assert_eq!(parse(b"HELLO there"), Err(CommandError::Unknown));
        assert_eq!(parse(b""), Err(CommandError::Unknown));
        assert_eq!(parse(b"BDAT 100 LAST"), Err(CommandError::Unknown));
        assert_eq!(parse(b"\xff\xfe"), Err(CommandError::Encoding));
        assert_eq!(parse(b"NOOP \x00"), Err(CommandError::Encoding));
        assert_eq!(parse(b"GET / HTTP/1.1"), Err(CommandError::Forbidden));
        assert_eq!(
            parse(b"CONNECT mail.example:25 HTTP/1.0"),
            Err(CommandError::Forbidden)
        );
        assert!(matches!(parse(b"EHLO"), Err(CommandError::Syntax(_))));
        assert!(matches!(parse(b"DATA now"), Err(CommandError::Syntax(_))));
        assert!(matches!(parse(b"VRFY"), Err(CommandError::Syntax(_))));
    }
}
