//! `zkguard context`: the context field element a proof must carry for a submission (for
//! `zkguard prove --context`), from every part the Guard binds.

use alloy_primitives::{Address, U256};
use clap::Args;

use crate::artifact::fr_to_hex;
use crate::evm::context::SubmissionContext;

/// What the proof is bound to (the Solidity `SubmissionContext` plus chain and Guard). Every
/// field the Guard checks is required: a default would silently bind a proof to a context no
/// Guard accepts.
#[derive(Debug, Clone, Args)]
pub struct ContextArgs {
    /// Chain id.
    #[arg(long)]
    pub chain_id: u64,
    /// The Guard contract's address.
    #[arg(long, value_name = "ADDRESS")]
    pub guard: Address,
    /// Registry model id.
    #[arg(long)]
    pub model_id: U256,
    /// Submission nonce (single use per model).
    #[arg(long)]
    pub nonce: u64,
    /// Issue time, unix seconds (the Guard refuses a stale or future one).
    #[arg(long)]
    pub issued_at: u64,
    /// One subject per real sample, in sample order (repeat the flag); none by default.
    #[arg(long = "subject", value_name = "ADDRESS")]
    pub subjects: Vec<Address>,
}

impl ContextArgs {
    fn context(&self) -> SubmissionContext {
        SubmissionContext {
            chain_id: self.chain_id,
            guard: self.guard,
            model_id: self.model_id,
            nonce: self.nonce,
            issued_at: self.issued_at,
            subjects: self.subjects.clone(),
        }
    }
}

/// Runs `context`: prints the context field element (for `zkguard prove --context`).
pub fn run_context(args: ContextArgs) -> anyhow::Result<()> {
    let ctx = args.context();
    println!("{}", fr_to_hex(&ctx.context()));
    Ok(())
}
