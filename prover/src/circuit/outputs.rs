//! The app circuit's public outputs in the packed layout of [`super::instances`]: the flagged
//! count, the decision words and the score words, constrained from the per-sample cells.

use halo2_base::gates::{GateInstructions, RangeChip, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::Constant;

use super::field::pow2;
use super::instances::{InstanceLayout, DECISION_BITS_PER_WORD};

/// The public instances of one app proof: `header` (model commitment, input commitment, context,
/// sample count), then the flagged count (the sum of the decision bits), the decision words and,
/// when the layout has scores, the score words.
///
/// ## Assumptions
/// * `decisions` are bits, already masked to 0 past the sample count (`len == batch_size`).
/// * `scores` are masked to 0 past the sample count (`len == batch_size`); their range is
///   constrained here: every `u = score + 2^(bits - 1)` is range-checked to `bits` bits before
///   packing, so no slot can overflow into another and the packing is injective whatever chip
///   produced the score (a score outside the width makes the circuit unsatisfiable).
pub fn expose(
    ctx: &mut Context<Fr>,
    range: &RangeChip<Fr>,
    layout: &InstanceLayout,
    header: [AssignedValue<Fr>; 4],
    decisions: &[AssignedValue<Fr>],
    scores: &[AssignedValue<Fr>],
) -> Vec<AssignedValue<Fr>> {
    let gate = range.gate();
    let mut public = header.to_vec();
    public.push(gate.sum(ctx, decisions.iter().copied()));
    public.extend(decisions.chunks(DECISION_BITS_PER_WORD).map(|chunk| {
        let powers = (0..chunk.len()).map(|b| Constant(pow2(b as u64)));
        gate.inner_product(ctx, chunk.iter().copied(), powers)
    }));
    if let Some(bits) = layout.score_bits {
        let shifted: Vec<_> = scores
            .iter()
            .map(|&s| {
                let u = gate.add(ctx, s, Constant(pow2(bits as u64 - 1)));
                range.range_check(ctx, u, bits as usize);
                u
            })
            .collect();
        public.extend(shifted.chunks(layout.scores_per_word()).map(|chunk| {
            let powers = (0..chunk.len()).map(|j| Constant(pow2((j * bits as usize) as u64)));
            gate.inner_product(ctx, chunk.iter().copied(), powers)
        }));
    }
    public
}

#[cfg(test)]
mod tests {
    use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
    use halo2_base::gates::circuit::CircuitBuilderStage;
    use halo2_base::halo2_proofs::dev::MockProver;

    use super::*;
    use crate::circuit::field::fr_from_i128;
    use crate::circuit::instances::AppInstances;

    const K: usize = 10;

    /// Lays out `expose` over witnesses and returns whether the mock prover accepts `claimed`
    /// (the instances the Rust encoder computes when `None`).
    fn run(
        layout: InstanceLayout,
        count: usize,
        decisions: &[bool],
        scores: &[i128],
        claimed: Option<Vec<Fr>>,
    ) -> bool {
        let mut builder = BaseCircuitBuilder::from_stage(CircuitBuilderStage::Mock)
            .use_k(K)
            .use_lookup_bits(K - 1)
            .use_instance_columns(1);
        let range = builder.range_chip();
        let ctx = builder.main(0);
        let header =
            [Fr::from(1u64), Fr::from(2u64), Fr::from(3u64), Fr::from(count as u64)].map(|v| ctx.load_witness(v));
        let d: Vec<_> = decisions.iter().map(|&b| ctx.load_witness(Fr::from(b as u64))).collect();
        let s: Vec<_> = scores.iter().map(|&v| ctx.load_witness(fr_from_i128(v))).collect();
        let public = expose(ctx, &range, &layout, header, &d, &s);
        let values: Vec<Fr> = public.iter().map(|a| *a.value()).collect();
        builder.assigned_instances = vec![public];
        builder.calculate_params(Some(20));
        let instances = claimed.unwrap_or(values);
        MockProver::run(K as u32, &builder, vec![instances]).unwrap().verify().is_ok()
    }

    fn encoded(layout: InstanceLayout, count: usize, decisions: &[bool], scores: &[i128]) -> Vec<Fr> {
        AppInstances {
            layout,
            model_commitment: Fr::from(1u64),
            input_commitment: Fr::from(2u64),
            context: Fr::from(3u64),
            sample_count: count,
            decisions: decisions.to_vec(),
            scores: scores.to_vec(),
        }
        .to_vec()
    }

    #[test]
    fn circuit_packing_matches_the_rust_encoder() {
        let layout = InstanceLayout { batch_size: 9, score_bits: Some(10) };
        let decisions = [true, false, true, true, false, false, true, false, false];
        let scores = [-512, 511, 0, -1, 1, 300, -300, 0, 0];
        let expected = encoded(layout, 7, &decisions, &scores);
        assert!(run(layout, 7, &decisions, &scores, Some(expected.clone())));
        // Without scores: only the header, the flagged count and the decision word.
        let bare = InstanceLayout { batch_size: 9, score_bits: None };
        assert!(run(bare, 7, &decisions, &scores, Some(encoded(bare, 7, &decisions, &[]))));
        // A wrong flagged count is refused.
        let mut wrong = expected;
        wrong[4] += Fr::one();
        assert!(!run(layout, 7, &decisions, &scores, Some(wrong)));
    }

    #[test]
    fn a_score_that_does_not_fit_the_width_is_unsatisfiable() {
        let layout = InstanceLayout { batch_size: 3, score_bits: Some(10) };
        let decisions = [false; 3];
        for bad in [512i128, -513, 1 << 20, -(1 << 40)] {
            // Whatever the prover claims as the packed word, the range check fails.
            assert!(!run(layout, 3, &decisions, &[0, bad, 0], None), "score {bad} accepted");
        }
        // Without the check an overflowing slot would alias another packing: (512, 0) packs like
        // (-512, 1). The extremes of the width are accepted.
        assert!(run(layout, 3, &decisions, &[511, -512, 0], None));
    }
}
