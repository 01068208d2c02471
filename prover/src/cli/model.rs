//! `zkguard model import` and `zkguard model check`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::common::{check_output, file_sha256};
use crate::artifact::{self, QuantizedFile};
use crate::check::check_model;
use crate::data;
use crate::model;
use crate::quant;

/// Model subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Validate a float model file, choose its fixed-point scale from sample data, and write the
    /// quantized model with its Poseidon commitment (what a ModelRegistry pins).
    Import(ImportArgs),
    /// Compare the quantized model's decisions and scores with the float model's on a CSV.
    Check(CheckArgs),
}

/// Arguments of `model import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Float model file (`zkguard-model` JSON, from scripts/export_model.py).
    pub model: PathBuf,
    /// CSV of sample rows for calibration (header = feature names).
    #[arg(long, value_name = "CSV")]
    pub calibration: PathBuf,
    /// Output file for the quantized model.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `model check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Float model file.
    pub model: PathBuf,
    /// CSV with the feature columns, and optionally `label`, `float_score`, `float_decision`.
    pub data: PathBuf,
    /// Calibration CSV (defaults to DATA).
    #[arg(long, value_name = "CSV")]
    pub calibration: Option<PathBuf>,
    /// Also write the report as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Fail (exit 1) when the decision agreement is below this fraction.
    #[arg(long, value_name = "FRACTION")]
    pub min_agreement: Option<f64>,
}

/// Runs a model subcommand.
pub fn run(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Import(args) => {
            check_output(&args.out, &[&args.model, &args.calibration])?;
            let float = model::load_model(&args.model)?;
            let data = data::load_csv(&args.calibration, &float.features)?;
            let quantized = quant::calibrate(&float, &data.rows, quant::DEFAULT_HEADROOM_BITS)?;
            let file = QuantizedFile::new(quantized, file_sha256(&args.model)?);
            artifact::write_json(&args.out, &file)?;
            println!(
                "imported {} ({}, {} features): scale 2^{}, model commitment {}\nwrote {}",
                file.model.name,
                float.model.family(),
                float.features.len(),
                file.model.fixed.scale_bits,
                file.model_commitment,
                args.out.display()
            );
            Ok(())
        }
        ModelCommand::Check(args) => {
            if let Some(json) = &args.json {
                check_output(json, &[&args.model, &args.data])?;
            }
            let float = model::load_model(&args.model)?;
            let data = data::load_csv(&args.data, &float.features)?;
            let calibration = match &args.calibration {
                Some(path) => data::load_csv(path, &float.features)?,
                None => data.clone(),
            };
            let quantized = quant::calibrate(&float, &calibration.rows, quant::DEFAULT_HEADROOM_BITS)?;
            let report = check_model(&float, &quantized, &data)?;
            print!("{report}");
            if let Some(path) = &args.json {
                artifact::write_json(path, &report).with_context(|| "writing the JSON report")?;
            }
            if let Some(min) = args.min_agreement {
                anyhow::ensure!(
                    report.agreement >= min,
                    "decision agreement {:.4} is below --min-agreement {min}",
                    report.agreement
                );
            }
            Ok(())
        }
    }
}
