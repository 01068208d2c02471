//! The demo's HTML report in a real headless browser (Debian's `chromium`; `bash scripts/setup`
//! installs it): the page renders, every plot is laid out with a real size (the windows plot
//! with its threshold and TRIP mark, both histogram colours, gas and proving time), and the
//! browser logs no console error. The test fails when no browser can render the page.
//!
//! The report carries no script; the test renders a copy with one appended probe script that
//! measures the plots after layout and writes the result into the DOM, which `--dump-dom` prints.
//! A page with a deliberate script error shows that console errors are caught.

use std::path::{Path, PathBuf};
use std::process::Command;

use zkguard_prover::report::{Accuracy, BatchRow, Report, WindowPoint, WindowSeries, FLOAT_COLOUR, QUANTIZED_COLOUR};

/// The browser: `ZKGUARD_CHROMIUM`, else `chromium` / `chromium-browser` / `google-chrome` on PATH.
fn browser() -> PathBuf {
    if let Some(path) = std::env::var_os("ZKGUARD_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("no headless browser: install Debian's chromium (`bash scripts/setup` does) or set ZKGUARD_CHROMIUM");
}

/// Renders `html` in the browser; returns (the DOM after layout, the browser's log).
fn render(html: &str, dir: &Path, name: &str) -> (String, String) {
    let page = dir.join(name);
    std::fs::write(&page, html).unwrap();
    let profile = dir.join(format!("{name}-profile"));
    let out = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1100,3000",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("the browser starts");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success() && !dom.is_empty(), "the browser could not render {name}: {log}");
    (dom, log)
}

/// Console errors in the browser's log (uncaught exceptions, console.error, failed loads).
fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            (l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains(":ERROR:") || l.contains("console.error")))
                || l.contains("Failed to load resource")
        })
        .collect()
}

/// Measures every SVG plot after layout and writes `name:width:height:rects` into the DOM.
const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const out = [];
  document.querySelectorAll('figure').forEach(f => {
    const svg = f.querySelector('svg');
    const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const fills = new Set([...f.querySelectorAll('rect.bar')].map(e => getComputedStyle(e).fill));
    out.push([f.className || 'figure', Math.round(r.width), Math.round(r.height), f.querySelectorAll('rect').length, fills.size].join(':'));
  });
  const p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = out.join('\n');
  document.body.appendChild(p);
});
</script>"#;

fn report() -> Report {
    let scores: Vec<f64> = (0..200).map(|i| (i as f64 - 100.0) / 25.0).collect();
    let quantized: Vec<f64> = scores.iter().map(|s| s + 0.001).collect();
    Report {
        title: "zkguard demo".into(),
        subtitle: "headless check".into(),
        machine: "test".into(),
        warnings: vec!["INSECURE development SRS".into()],
        accuracy: vec![Accuracy {
            model: "fraud_logistic".into(),
            family: "linear".into(),
            samples: 200,
            scale_bits: 16,
            agreement: 1.0,
            float_flagged: 100,
            quantized_flagged: 100,
            score_max_abs_error: 1e-3,
            threshold: 0.0,
            float_scores: scores,
            quantized_scores: quantized,
            histogram_of: "the 200 transactions proved".into(),
        }],
        batches: (0..3)
            .map(|i| BatchRow {
                label: format!("window-{i:03} (m1)"),
                mode: "direct".into(),
                samples: 16,
                flagged: [2, 12, 3][i],
                prove_s: 2.5,
                gas_used: Some(480_000),
                tx: Some(format!("0x{}", "ab".repeat(32))),
                status: "confirmed".into(),
                decisions: vec![false; 16],
            })
            .collect(),
        outcomes: vec![("circuit breaker".into(), "1 trip(s)".into())],
        windows: Some(WindowSeries {
            window: 16,
            threshold: 10,
            points: (0..3)
                .map(|i| WindowPoint {
                    label: format!("window-{i:03}"),
                    flagged: Some([2, 12, 3][i]),
                    injected: [0, 11, 1][i],
                    caught: [0, 11, 1][i],
                    tripped: i == 1,
                })
                .collect(),
        }),
        deployment: vec![("Guard".into(), "0x5FbDB2315678afecb367f032d93F642f64180aa3".into())],
    }
}

#[test]
fn the_report_renders_in_a_headless_browser_with_its_plots_and_no_console_error() {
    let dir = tempfile::tempdir().unwrap();
    let html = report().to_html();
    assert!(!html.contains("<script"), "the report itself has no script");

    let (dom, log) = render(&html.replace("</body>", &format!("{PROBE}</body>")), dir.path(), "report.html");
    assert!(console_errors(&log).is_empty(), "console errors: {:?}", console_errors(&log));
    let probe = dom.split("<pre id=\"probe\">").nth(1).and_then(|p| p.split("</pre>").next()).unwrap_or_else(|| {
        panic!("the probe did not run: the page did not load ({log})");
    });
    let figures: Vec<Vec<&str>> = probe.lines().map(|l| l.split(':').collect()).collect();
    assert_eq!(figures.len(), 4, "windows, gas, proving time, histogram: {probe}");
    for f in &figures {
        let (w, h, rects): (u32, u32, u32) = (f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap());
        assert!(w >= 300 && h >= 50 && rects > 0, "a plot without size or marks: {f:?}");
    }
    let windows = figures.iter().find(|f| f[0] == "windows").expect("the windows plot");
    assert_eq!(windows[3], "3", "one bar per window");
    let histogram = figures.iter().find(|f| f[0] == "histogram").expect("the histogram");
    assert_eq!(histogram[4], "2", "two distinct bar colours, one per legend entry");
    assert!(dom.contains(">TRIP<") && dom.contains("threshold 10 of 16"));
    assert!(dom.contains(FLOAT_COLOUR) && dom.contains(QUANTIZED_COLOUR));
    assert!(dom.contains("0x5FbDB2315678afecb367f032d93F642f64180aa3"));

    // The console check can fail: a page with a script error is caught.
    let (_, log) = render(
        "<!doctype html><html><body><script>undefinedFunction()</script></body></html>",
        dir.path(),
        "broken.html",
    );
    assert!(!console_errors(&log).is_empty(), "a script error must show in the log: {log}");
}
