//! Charts drawn on the server as SVG: the geometry here, the drawing in the templates. Lengths
//! across are percentages of the chart's width and lengths down are pixels, so a chart fills
//! any screen while its text keeps its size.

/// A count as a length: charts draw counts far below 2^52, where `f64` is exact.
#[expect(
    clippy::cast_precision_loss,
    reason = "counts drawn are far below 2^52"
)]
const fn float(n: u64) -> f64 {
    n as f64
}

/// One bar of a horizontal bar chart: a label above, the bar, its value at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// What the bar's end says, such as `75% (3 of 4)`.
    pub value: String,
    /// The bar's length, in percent of the chart's width.
    pub width: f64,
    /// Where the label sits, and the bar under it, in pixels from the top.
    pub label_top: u32,
    pub top: u32,
}

/// A chart of bars, one under the other.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub bars: Vec<Bar>,
    pub height: u32,
}

/// Each bar takes this many pixels down: its label, the bar, and the space after.
const BAR_ROW: u32 = 42;
const LABEL_HEIGHT: u32 = 16;
/// The longest label, in characters; longer ones are cut with an ellipsis.
const MAX_LABEL: usize = 48;

fn cut(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        label.to_owned()
    } else {
        let head: String = label.chars().take(MAX_LABEL - 1).collect();
        format!("{}…", head.trim_end())
    }
}

/// Bars for `(label, value shown, share in percent)`: each as long as its share of 100.
pub fn bars(rows: impl IntoIterator<Item = (String, String, u64)>) -> Bars {
    let bars: Vec<Bar> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, value, share))| {
            let top = u32::try_from(i).unwrap_or(u32::MAX / BAR_ROW) * BAR_ROW;
            Bar {
                label: cut(&label),
                value,
                width: float(share.min(100)),
                label_top: top + 13,
                top: top + LABEL_HEIGHT + 2,
            }
        })
        .collect();
    let height = u32::try_from(bars.len()).unwrap_or(0) * BAR_ROW;
    Bars { bars, height }
}

/// A column of a month chart: two bars side by side (one per series) over the month's label.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    /// Where the label's middle sits, in percent of the width.
    pub middle: f64,
    /// The first series' bar: its left edge in percent, its top and height in pixels.
    pub first_x: f64,
    pub first_y: f64,
    pub first_height: f64,
    pub second_x: f64,
    pub second_y: f64,
    pub second_height: f64,
    /// What a pointer over the column says.
    pub title: String,
}

/// A chart of two series by month.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub slots: Vec<Column>,
    /// Each bar's width, in percent.
    pub bar_width: f64,
    /// The baseline, in pixels from the top; labels sit under it.
    pub base: f64,
    pub height: u32,
    /// The largest value, which the tallest bar reaches.
    pub top: u64,
}

/// The height of the bars' area, in pixels.
const PLOT: f64 = 150.0;

/// Columns for `(label, first, second, title)`, scaled to the largest value of either series.
pub fn columns(rows: &[(String, u64, u64, String)]) -> Columns {
    let top = rows
        .iter()
        .flat_map(|(_, a, b, _)| [*a, *b])
        .max()
        .unwrap_or(0);
    let slot = if rows.is_empty() {
        100.0
    } else {
        100.0 / float(rows.len() as u64)
    };
    let bar_width = slot * 0.34;
    let scale = |v: u64| {
        if top == 0 {
            0.0
        } else {
            (float(v) / float(top) * PLOT).round()
        }
    };
    let base = PLOT + 8.0;
    let slots = rows
        .iter()
        .enumerate()
        .map(|(i, (label, first, second, title))| {
            let left = slot * float(i as u64);
            let (h1, h2) = (scale(*first), scale(*second));
            Column {
                label: label.clone(),
                middle: left + slot / 2.0,
                first_x: left + slot * 0.14,
                first_y: base - h1,
                first_height: h1,
                second_x: left + slot * 0.52,
                second_y: base - h2,
                second_height: h2,
                title: title.clone(),
            }
        })
        .collect();
    Columns {
        slots,
        bar_width,
        base,
        height: 190,
        top,
    }
}

/// A month's short name (`Jan` … `Dec`) from `YYYY-MM`; the text itself when it is not one.
pub fn month_name(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    month
        .split_once('-')
        .and_then(|(_, m)| m.parse::<usize>().ok())
        .and_then(|m| NAMES.get(m.wrapping_sub(1)))
        .map_or_else(|| month.to_owned(), |n| (*n).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_share_and_stack_down() {
        let chart = bars([
            ("Fire safety".to_owned(), "50%".to_owned(), 50),
            ("Data".to_owned(), "120%".to_owned(), 120),
        ]);
        assert_eq!(chart.height, 2 * BAR_ROW);
        assert!((chart.bars[0].width - 50.0).abs() < f64::EPSILON);
        assert!(
            (chart.bars[1].width - 100.0).abs() < f64::EPSILON,
            "never past the end"
        );
        assert!(chart.bars[1].label_top > chart.bars[0].top);
        let long = bars([("x".repeat(80), String::new(), 1)]);
        assert_eq!(long.bars[0].label.chars().count(), MAX_LABEL);
        assert!(long.bars[0].label.ends_with('…'));
    }

    #[test]
    fn columns_scale_to_the_largest_value_and_share_the_width() {
        let chart = columns(&[
            ("Jan".to_owned(), 10, 5, String::new()),
            ("Feb".to_owned(), 0, 20, String::new()),
        ]);
        assert_eq!(chart.top, 20);
        let (jan, feb) = (&chart.slots[0], &chart.slots[1]);
        assert!(
            (feb.second_height - PLOT).abs() < f64::EPSILON,
            "the largest is full height"
        );
        assert!((jan.first_height - PLOT / 2.0).abs() < f64::EPSILON);
        assert!((feb.first_height).abs() < f64::EPSILON);
        assert!((jan.first_y + jan.first_height - chart.base).abs() < f64::EPSILON);
        assert!((jan.middle - 25.0).abs() < f64::EPSILON && (feb.middle - 75.0).abs() < 1e-9);
        assert!(
            chart.bar_width * 2.0 < 50.0,
            "two bars fit in a month's slot"
        );
        let empty = columns(&[("Jan".to_owned(), 0, 0, String::new())]);
        assert!((empty.slots[0].first_height).abs() < f64::EPSILON);
    }

    #[test]
    fn months_get_their_short_names() {
        assert_eq!(month_name("2026-01"), "Jan");
        assert_eq!(month_name("2026-12"), "Dec");
        assert_eq!(month_name("2026-13"), "2026-13");
        assert_eq!(month_name("soon"), "soon");
    }
}
