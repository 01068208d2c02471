//! Sample CSVs: columns are matched by name, and a missing column, a non-numeric or non-finite
//! cell, or a file without rows is refused with an error naming the file, line and column.

use std::io::Write;

use zkguard_prover::data::{load_csv, DataError};

fn csv(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn features() -> Vec<String> {
    vec!["a".into(), "b".into()]
}

#[test]
fn columns_are_matched_by_name_with_optional_reference_columns() {
    let f = csv("b,extra,a,label,float_score,float_decision\n2,x,1,1,0.5,1\n4,y,3,0,-0.5,0\n");
    let data = load_csv(f.path(), &features()).unwrap();
    assert_eq!(data.rows, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    assert_eq!(data.labels, Some(vec![1.0, 0.0]));
    assert_eq!(data.float_decisions, Some(vec![true, false]));
}

#[test]
fn malformed_data_is_refused_with_its_location() {
    let f = csv("a,c\n1,2\n");
    let err = load_csv(f.path(), &features()).unwrap_err();
    assert!(matches!(&err, DataError::MissingColumn { feature, index: 1, .. } if feature == "b"), "{err}");

    for (cell, shown) in [("x", "\"x\""), ("NaN", "\"NaN\""), ("inf", "\"inf\""), ("", "\"\"")] {
        let f = csv(&format!("a,b\n1,2\n3,{cell}\n"));
        let err = load_csv(f.path(), &features()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(&err, DataError::BadValue { line: 3, column, .. } if column == "b"), "{text}");
        assert!(text.contains(shown), "{text}");
    }

    let f = csv("a,b\n");
    assert!(matches!(load_csv(f.path(), &features()).unwrap_err(), DataError::Empty { .. }));
}
