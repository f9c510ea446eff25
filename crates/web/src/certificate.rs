//! A certificate of completion as a one-page PDF: A4 landscape, DejaVu Serif embedded (whole:
//! printpdf subsets fonts only with its layout engine, which Rollcall does without), so every
//! learner's name prints as written, accents and all.

use printpdf::{
    Color, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
    Rect, Rgb, TextItem,
};
use rollcall_domain::learning::Certificate;

const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSerif.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSerif-Bold.ttf");

/// A4 landscape, in points.
const WIDTH: f32 = 841.89;
const HEIGHT: f32 = 595.28;

/// The certificate as PDF bytes. `org` is the issuing organisation's name, `verify_at` the
/// public page where its code is checked.
pub fn pdf(certificate: &Certificate, org: &str, verify_at: &str) -> Result<Vec<u8>, String> {
    let mut warnings = Vec::new();
    let regular = ParsedFont::from_bytes(REGULAR, 0, &mut warnings)
        .ok_or("the certificate's font does not parse")?;
    let bold = ParsedFont::from_bytes(BOLD, 0, &mut warnings)
        .ok_or("the certificate's bold font does not parse")?;
    let mut doc = PdfDocument::new(&format!("Certificate: {}", certificate.course_title));
    let faces = [
        (doc.add_font(&regular), regular),
        (doc.add_font(&bold), bold),
    ];
    let ink = Color::Rgb(Rgb {
        r: 0.11,
        g: 0.16,
        b: 0.27,
        icc_profile: None,
    });
    let accent = Color::Rgb(Rgb {
        r: 0.15,
        g: 0.39,
        b: 0.65,
        icc_profile: None,
    });
    let mut ops = vec![
        Op::SetOutlineColor {
            col: accent.clone(),
        },
        Op::SetOutlineThickness { pt: Pt(3.0) },
        Op::DrawRectangle {
            rectangle: frame(28.0),
        },
        Op::SetOutlineThickness { pt: Pt(0.8) },
        Op::DrawRectangle {
            rectangle: frame(38.0),
        },
        Op::SetFillColor { col: ink },
    ];
    let date = certificate.issued_at.format("%-d %B %Y").to_string();
    let code = certificate.code.to_string();
    let lines: [(usize, f32, f32, &str); 8] = [
        (0, 15.0, 470.0, org),
        (1, 34.0, 420.0, "Certificate of completion"),
        (0, 14.0, 372.0, "This certifies that"),
        (1, 30.0, 326.0, &certificate.learner_name),
        (0, 14.0, 282.0, "has completed the course"),
        (1, 22.0, 242.0, &certificate.course_title),
        (0, 14.0, 204.0, &format!("on {date}")),
        (
            0,
            10.0,
            90.0,
            &format!("Verification code {code} · check it at {verify_at}"),
        ),
    ];
    for (face, size, y, text) in lines {
        let (id, font) = &faces[face];
        // A line too long for the page is set smaller until it fits between the frames.
        let room = WIDTH - 120.0;
        let natural = text_width(font, text, size);
        let size = if natural > room {
            size * room / natural
        } else {
            size
        };
        let width = natural.min(room);
        ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(id.clone()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point {
                    x: Pt((WIDTH - width) / 2.0),
                    y: Pt(y),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }
    let page = PdfPage::new(Mm::from(Pt(WIDTH)), Mm::from(Pt(HEIGHT)), ops);
    let bytes = doc
        .with_pages(vec![page])
        .save(&PdfSaveOptions::default(), &mut Vec::new());
    Ok(bytes)
}

/// A rectangle `inset` points inside the page's edge, stroked.
fn frame(inset: f32) -> Rect {
    Rect {
        x: Pt(inset),
        y: Pt(inset),
        width: Pt(WIDTH - 2.0 * inset),
        height: Pt(HEIGHT - 2.0 * inset),
        mode: Some(printpdf::PaintMode::Stroke),
        winding_order: None,
    }
}

/// How wide `text` sets in `font` at `size` points (characters the font lacks count as an en).
fn text_width(font: &ParsedFont, text: &str, size: f32) -> f32 {
    let em = f32::from(font.units_per_em.max(1));
    let units: f32 = text
        .chars()
        .map(|c| {
            font.lookup_glyph_index(u32::from(c))
                .and_then(|glyph| font.get_glyph_width(glyph))
                .map_or(em / 2.0, f32::from)
        })
        .sum();
    units / em * size
}

#[cfg(test)]
mod tests {
    use rollcall_domain::learning::Certificate;
    use rollcall_domain::{CourseId, OrgId, UserId};

    #[test]
    fn a_certificate_is_a_pdf_with_its_font_embedded() {
        let certificate = Certificate::issue(
            OrgId::new(),
            UserId::new(),
            CourseId::new(),
            "Adélaïde Łukasiewicz-Ødegård",
            "Sécurité incendie",
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        );
        let pdf = super::pdf(
            &certificate,
            "Northfield District",
            "https://rollcall.example/verify",
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        if let Ok(path) = std::env::var("ROLLCALL_CERTIFICATE_SAMPLE") {
            std::fs::write(path, &pdf).unwrap();
        }
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2"), "the TrueType font is embedded");
        assert!(
            pdf.len() < 600_000,
            "two faces, compressed: {} bytes",
            pdf.len()
        );
    }
}
