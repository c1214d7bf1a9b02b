//! UTC calendar formatting for object keys (`2026-11-23`) and the `Received:` header
//! date (RFC 5322 §3.3). Days from the epoch to a civil date follow Howard Hinnant's
//! `civil_from_days` algorithm, exact for the proleptic Gregorian calendar.

use mmsc_shared::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

pub fn civil(ts: Timestamp) -> Civil {
    let secs = ts.unix_secs();
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month: month as u32,
        day: day as u32,
        hour: (sod / 3600) as u32,
        minute: (sod % 3600 / 60) as u32,
        second: (sod % 60) as u32,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

/// `YYYY-MM-DD` (UTC).
pub fn date_path(ts: Timestamp) -> String {
    let c = civil(ts);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `Tue, 8 May 2007 12:18:32 +0000` (UTC).
pub fn rfc5322(ts: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(ts);
    let wd = DAYS.get(c.weekday as usize).copied().unwrap_or("Sun");
    let mon = MONTHS
        .get((c.month as usize).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{wd}, {} {mon} {:04} {:02}:{:02}:{:02} +0000",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        // 2007-05-08T09:18:32Z, the seed sample's Date (12:18:32 +0300).
        let t = Timestamp::from_unix_secs(1_178_615_912);
        assert_eq!(date_path(t), "2007-05-08");
        assert_eq!(rfc5322(t), "Tue, 8 May 2007 09:18:32 +0000");
        assert_eq!(date_path(Timestamp(0)), "1970-01-01");
        assert_eq!(rfc5322(Timestamp(0)), "Thu, 1 Jan 1970 00:00:00 +0000");
        // Leap day and the end of a leap year.
        assert_eq!(
            date_path(Timestamp::from_unix_secs(951_782_400)),
            "2000-02-29"
        );
        assert_eq!(
            date_path(Timestamp::from_unix_secs(1_735_603_200)),
            "2024-12-31"
        );
        assert_eq!(date_path(Timestamp::from_unix_secs(-1)), "1969-12-31");
    }

    #[test]
    fn agrees_with_humantime_every_day_for_decades() {
        let mut secs = 0i64;
        while secs < 4_102_444_800 {
            let t = Timestamp::from_unix_secs(secs + 45_296);
            let rfc3339 = t.to_string();
            assert_eq!(date_path(t), rfc3339[..10], "{rfc3339}");
            secs += 86_400 * 7 + 3_600;
        }
    }
}
