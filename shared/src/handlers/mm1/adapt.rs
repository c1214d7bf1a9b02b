//! Content adaptation for MM1 recipients: a JPEG, PNG or GIF part larger than
//! `mm1.image_max_bytes` is scaled (aspect ratio kept) to fit
//! `mm1.image_max_dimension` pixels and re-encoded in its own format, and kept
//! only when that made it smaller. Everything else (other media, animated GIFs,
//! images that do not decode) is delivered unchanged. Pure functions.

use super::content::MmsContent;
use crate::config::Mm1Config;
use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{AnimationDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Largest image (in pixels per side) we are willing to decode.
const MAX_DECODE_SIDE: u32 = 8192;
/// JPEG quality of adapted images.
const JPEG_QUALITY: u8 = 80;

fn format_of(media: &str) -> Option<ImageFormat> {
    match media {
        "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/gif" => Some(ImageFormat::Gif),
        _ => None,
    }
}

fn is_animated_gif(data: &[u8]) -> bool {
    GifDecoder::new(Cursor::new(data))
        .map(|d| d.into_frames().take(2).count() > 1)
        .unwrap_or(false)
}

/// The adapted bytes of one image, or `None` to keep it as it is.
pub fn adapt_image(
    media: &str,
    data: &[u8],
    max_bytes: u64,
    max_dimension: u32,
) -> Option<Vec<u8>> {
    if max_bytes == 0 || data.len() as u64 <= max_bytes {
        return None;
    }
    let format = format_of(media)?;
    if format == ImageFormat::Gif && is_animated_gif(data) {
        return None;
    }
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_SIDE);
    limits.max_image_height = Some(MAX_DECODE_SIDE);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let scaled = if img.width() > max_dimension || img.height() > max_dimension {
        img.resize(max_dimension, max_dimension, FilterType::Triangle)
    } else {
        img
    };
    let mut out = Vec::new();
    let encoded = match format {
        ImageFormat::Jpeg => scaled
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
        other => scaled.write_to(&mut Cursor::new(&mut out), other),
    };
    (encoded.is_ok() && out.len() < data.len()).then_some(out)
}

/// Adapts every image part of `content`; returns a note per adapted part.
pub fn adapt(content: &mut MmsContent, cfg: &Mm1Config) -> Vec<String> {
    let mut notes = Vec::new();
    for part in &mut content.parts {
        if let Some(smaller) = adapt_image(
            &part.media,
            &part.data,
            cfg.image_max_bytes,
            cfg.image_max_dimension,
        ) {
            notes.push(format!(
                "{} {} -> {} bytes",
                part.media,
                part.data.len(),
                smaller.len()
            ));
            part.data = smaller;
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::mm1::content::MmsPart;
    use image::{DynamicImage, GenericImageView, RgbImage};

    fn picture(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 13 % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), format)
            .unwrap();
        out
    }

    #[test]
    fn scales_large_images_in_their_own_format() {
        for (media, format) in [
            ("image/jpeg", ImageFormat::Jpeg),
            ("image/png", ImageFormat::Png),
            ("image/gif", ImageFormat::Gif),
        ] {
            let big = picture(1200, 800, format);
            let small = adapt_image(media, &big, 10_000, 320)
                .unwrap_or_else(|| panic!("{media} was not adapted"));
            assert!(small.len() < big.len(), "{media}");
            let back = image::load_from_memory_with_format(&small, format).unwrap();
            assert_eq!(back.dimensions(), (320, 213), "{media}");
        }
    }

    #[test]
    fn leaves_everything_else_unchanged() {
        let png = picture(64, 64, ImageFormat::Png);
        // Under the limit, adaptation off, not an image, not decodable.
        assert_eq!(adapt_image("image/png", &png, png.len() as u64, 16), None);
        assert_eq!(adapt_image("image/png", &png, 0, 16), None);
        assert_eq!(adapt_image("video/3gpp", &png, 10, 16), None);
        assert_eq!(adapt_image("image/jpeg", &[0xFF; 5000], 10, 16), None);
        let mut content = MmsContent {
            related: false,
            root_type: None,
            start: None,
            parts: vec![
                MmsPart {
                    media: "text/plain".into(),
                    params: vec![],
                    content_id: None,
                    content_location: None,
                    data: vec![b'x'; 50_000],
                },
                MmsPart {
                    media: "image/png".into(),
                    params: vec![],
                    content_id: Some("pic".into()),
                    content_location: None,
                    data: picture(1000, 1000, ImageFormat::Png),
                },
            ],
        };
        let cfg = Mm1Config {
            image_max_bytes: 20_000,
            image_max_dimension: 100,
            ..Mm1Config::default()
        };
        let notes = adapt(&mut content, &cfg);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(content.parts[0].data.len(), 50_000);
        let back = image::load_from_memory(&content.parts[1].data).unwrap();
        assert_eq!(back.dimensions(), (100, 100));
    }
}
