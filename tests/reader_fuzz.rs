//! Fuzzing the data reader (issue 13, item 4): random bytes and random CSV-like text, read as
//! CSV, TSV, Parquet and Arrow IPC, never panic; every failure is a typed [`DataError`] that
//! names the file.

use std::path::PathBuf;

use lmm_report::io::{
    read_table,
    source::{DataFormat, DataSource, ReadOptions},
    DataError,
};
use proptest::prelude::*;

fn file(bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per thread: proptest runs cases one after another within a test.
    let name = format!("{:?}.data", std::thread::current().id());
    let path = dir.join(name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Reads `bytes` in `format`; fails the case if the reader panics or a table is malformed.
fn read(bytes: &[u8], format: DataFormat, na: &[&str]) -> Result<(), TestCaseError> {
    let path = file(bytes);
    let options = ReadOptions {
        format: Some(format),
        na: na.iter().map(|s| s.to_string()).collect(),
        ..ReadOptions::default()
    };
    match read_table(&DataSource::Path(path.clone()), &options) {
        Ok(table) => {
            let rows = table.nrows();
            for (name, column) in table.iter() {
                prop_assert_eq!(column.len(), rows, "column {}", name);
            }
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.contains(&path.display().to_string()),
                "error does not name the file: {}",
                message
            );
            let _: &DataError = &e;
        }
    }
    Ok(())
}

/// Text made of the pieces that matter to a CSV reader.
fn csv_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_owned()),
        Just(";".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\"".to_owned()),
        Just("NA".to_owned()),
        Just("Inf".to_owned()),
        Just("-Inf".to_owned()),
        Just("NaN".to_owned()),
        Just("9007199254740993".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("1,5".to_owned()),
        Just("1e308".to_owned()),
        Just("1e999".to_owned()),
        Just(" ".to_owned()),
        "[a-c]{1,3}",
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
        "\\PC{1,2}",
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for format in [DataFormat::Csv, DataFormat::Tsv, DataFormat::Parquet, DataFormat::Ipc] {
            read(&bytes, format, &[])?;
        }
    }

    #[test]
    fn random_csv_text_never_panics(header in "[a-d]{1,2}(,[a-d]{1,2}){0,4}\n", body in csv_like()) {
        let text = header + &body;
        read(text.as_bytes(), DataFormat::Csv, &["."])?;
        read(text.as_bytes(), DataFormat::Tsv, &[])?;
    }

    #[test]
    fn corrupted_parquet_and_ipc_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        use polars::prelude::*;
        let mut frame = df!("y" => [1.0, 2.0, f64::INFINITY], "g" => ["a", "b", "c"],
            "id" => [1_i64 << 60, 2, 3]).unwrap();
        for format in [DataFormat::Parquet, DataFormat::Ipc] {
            let mut bytes = Vec::new();
            match format {
                DataFormat::Parquet => { ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap(); }
                _ => IpcWriter::new(&mut bytes).finish(&mut frame).unwrap(),
            }
            for (at, value) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= value | 1;
            }
            let keep = cut.index(bytes.len() + 1);
            read(&bytes[..keep.max(bytes.len() / 2)], format, &[])?;
        }
    }
}
