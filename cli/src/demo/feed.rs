//! The demo's transaction feed: a CSV with `subject`, `timestamp`, `pattern`, `label` and the
//! model's feature columns (see `docs/FRAUD_FEED.md`; the shipped feed is SYNTHETIC).

use std::path::Path;

use anyhow::{bail, Context};

/// One transaction.
#[derive(Clone, Debug)]
pub struct Transaction {
    /// The account that sent it (the subject a verdict is about).
    pub subject: String,
    /// Injected pattern (`normal` or a fraud pattern), for the summary only; never sent.
    pub pattern: String,
    /// Features in the model's order.
    pub features: Vec<f64>,
}

/// Reads the feed, features in `features` order; `limit` keeps the first transactions.
pub fn load(path: &Path, features: &[String], limit: Option<usize>) -> anyhow::Result<Vec<Transaction>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read the feed {}", path.display()))?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let col = |name: &str| {
        header.iter().position(|h| h == name).with_context(|| format!("{}: no `{name}` column", path.display()))
    };
    let subject = col("subject")?;
    let pattern = col("pattern")?;
    let feature_cols = features.iter().map(|f| col(f)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let line = i + 2;
        let record = record.with_context(|| format!("{} line {line}", path.display()))?;
        let field = |c: usize| record.get(c).unwrap_or_default();
        let mut values = Vec::with_capacity(feature_cols.len());
        for (&c, name) in feature_cols.iter().zip(features) {
            let v: f64 = field(c).parse().with_context(|| {
                format!("{} line {line}: `{name}` = {:?} is not a number", path.display(), field(c))
            })?;
            if !v.is_finite() {
                bail!("{} line {line}: `{name}` is not finite", path.display());
            }
            values.push(v);
        }
        out.push(Transaction {
            subject: field(subject).to_string(),
            pattern: field(pattern).to_string(),
            features: values,
        });
    }
    if out.is_empty() {
        bail!("{}: no transactions", path.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_features_in_model_order_and_names_bad_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.csv");
        std::fs::write(
            &path,
            "subject,timestamp,pattern,label,b,a\n0x01,1,normal,0,2.0,1.0\n0x02,2,drain_burst,1,4,3\n",
        )
        .unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        let feed = load(&path, &names, None).unwrap();
        assert_eq!(feed[1].features, vec![3.0, 4.0]);
        assert_eq!(feed[1].pattern, "drain_burst");
        assert_eq!(load(&path, &names, Some(1)).unwrap().len(), 1);
        std::fs::write(&path, "subject,timestamp,pattern,label,b,a\n0x01,1,normal,0,x,1.0\n").unwrap();
        let err = format!("{:#}", load(&path, &names, None).unwrap_err());
        assert!(err.contains("line 2") && err.contains("`b`"), "{err}");
        let err = format!("{:#}", load(&path, &["c".to_string()], None).unwrap_err());
        assert!(err.contains("no `c` column"), "{err}");
    }
}
