//! MM7 request status codes (3GPP TS 23.140 §8.7, "Status code and status text"),
//! an open newtype so codes we do not know survive a round trip.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(pub u16);

macro_rules! codes {
    ($($name:ident = $n:expr, $text:expr;)+) => {
        impl StatusCode {
            $(pub const $name: Self = Self($n);)+
            /// Every code with a standard text.
            pub const KNOWN: &'static [Self] = &[$(Self::$name,)+];
            /// The standard status text, if the code is one we know.
            pub fn standard_text(self) -> Option<&'static str> {
                match self.0 {
                    $($n => Some($text),)+
                    _ => None,
                }
            }
        }
    };
}

codes! {
    SUCCESS = 1000, "Success";
    PARTIAL_SUCCESS = 1100, "Partial success";
    CLIENT_ERROR = 2000, "Client error";
    OPERATION_RESTRICTED = 2001, "Operation restricted";
    ADDRESS_ERROR = 2002, "Address Error";
    ADDRESS_NOT_FOUND = 2003, "Address Not Found";
    MULTIMEDIA_CONTENT_REFUSED = 2004, "Multimedia content refused";
    MESSAGE_ID_NOT_FOUND = 2005, "Message ID Not found";
    LINKED_ID_NOT_FOUND = 2006, "LinkedID not found";
    MESSAGE_FORMAT_CORRUPT = 2007, "Message format corrupt";
    SERVER_ERROR = 3000, "Server Error";
    NOT_POSSIBLE = 3001, "Not Possible";
    MESSAGE_REJECTED = 3002, "Message rejected";
    MULTIPLE_ADDRESSES_NOT_SUPPORTED = 3003, "Multiple addresses not supported";
    APPLICATION_ADDRESSING_NOT_SUPPORTED = 3004, "Application Addressing not supported";
    CHARGING_NOT_SUPPORTED = 3005, "Charging not supported";
    REPLY_CHARGING_NOT_SUPPORTED = 3006, "Reply charging not supported";
    GENERAL_SERVICE_ERROR = 4000, "General service error";
    IMPROPER_IDENTIFICATION = 4001, "Improper identification";
    UNSUPPORTED_VERSION = 4002, "Unsupported version";
    UNSUPPORTED_OPERATION = 4003, "Unsupported Operation";
    VALIDATION_ERROR = 4004, "Validation error";
    SERVICE_ERROR = 4005, "Service error";
    SERVICE_UNAVAILABLE = 4006, "Service unavailable";
    SERVICE_DENIED = 4007, "Service denied";
    APPLICATION_DENIED = 4008, "Application denied";
}

impl StatusCode {
    /// 1xxx: the request was (at least partly) carried out.
    pub fn is_success(self) -> bool {
        (1000..2000).contains(&self.0)
    }
    /// The standard text, or the class name for codes we do not know.
    pub fn text(self) -> &'static str {
        self.standard_text().unwrap_or(match self.0 / 1000 {
            1 => "Success",
            2 => "Client error",
            3 => "Server Error",
            _ => "General service error",
        })
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_has_its_text() {
        assert_eq!(StatusCode::KNOWN.len(), 2 + 8 + 7 + 9);
        assert_eq!(StatusCode(1100).text(), "Partial success");
        assert_eq!(StatusCode(4001).text(), "Improper identification");
        assert_eq!(StatusCode(2005).text(), "Message ID Not found");
        assert_eq!(StatusCode(2999).text(), "Client error");
        assert!(StatusCode::PARTIAL_SUCCESS.is_success());
        assert!(!StatusCode::SERVER_ERROR.is_success());
    }
}
