//! Lessons are written in Markdown and shown as HTML that cannot carry a script: raw HTML in a
//! lesson is shown as text, and links and images may only point to the web (`http`, `https`),
//! mail (`mailto`) or within the site.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// The lesson's Markdown as safe HTML.
pub fn to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Written by the author as HTML: shown as the text it is.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// `url` when it is a web, mail or same-site address; `#` otherwise (`javascript:`, `data:`…).
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let scheme_end = lower.find([':', '/', '?', '#']);
    let allowed = match scheme_end {
        // A scheme: only these.
        Some(at) if lower[at..].starts_with(':') => {
            matches!(&lower[..at], "http" | "https" | "mailto")
        }
        // A path, query or fragment of this site (but not `//host`, another site's scheme-less
        // address, which is a web address anyway).
        _ => true,
    };
    if allowed { url } else { CowStr::Borrowed("#") }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn markdown_becomes_html() {
        let html =
            to_html("# Exits\n\nWalk, **do not run**, to [the map](/map#exits).\n\n- one\n- two");
        assert!(html.contains("<h1>Exits</h1>"), "{html}");
        assert!(html.contains("<strong>do not run</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="/map#exits">the map</a>"#),
            "{html}"
        );
        assert!(html.contains("<li>two</li>"), "{html}");
    }

    #[test]
    fn raw_html_and_scripts_are_shown_as_text() {
        for evil in [
            "<script>alert(1)</script>",
            "Hi <img src=x onerror=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let html = to_html(evil);
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<img"), "{html}");
            assert!(!html.contains("<iframe"), "{html}");
            assert!(!html.contains("<a "), "{html}");
            assert!(html.contains("&lt;"), "the text is kept, escaped: {html}");
        }
    }

    #[test]
    fn links_and_images_point_only_to_the_web_mail_or_this_site() {
        for evil in [
            "[x](javascript:alert(1))",
            "[x]( JavaScript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "![x](javascript:alert(1))",
        ] {
            let html = to_html(evil);
            assert!(!html.to_lowercase().contains("script:"), "{evil}: {html}");
            assert!(!html.contains("data:"), "{evil}: {html}");
        }
        for fine in [
            "[x](https://example.org/a?b=c)",
            "[x](mailto:help@example.org)",
            "[x](/courses)",
            "[x](#top)",
            "[x](next-lesson)",
        ] {
            let html = to_html(fine);
            assert!(!html.contains(r##"href="#""##), "{fine}: {html}");
        }
        assert!(to_html("![map](https://example.org/map.png)").contains("<img"));
    }
}
