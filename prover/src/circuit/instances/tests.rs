//! Round trips and refusals of the instance layout's encoder and decoder.

use super::*;

fn sample(batch_size: usize, score_bits: Option<u32>) -> AppInstances {
    let count = (batch_size - batch_size / 4).max(1);
    let layout = InstanceLayout { batch_size, score_bits };
    let decisions: Vec<bool> = (0..batch_size).map(|i| i < count && i % 3 == 0).collect();
    let scores = match score_bits {
        None => vec![],
        Some(bits) => {
            let half = 1i128 << (bits - 1);
            (0..batch_size)
                .map(|i| match i {
                    _ if i >= count => 0,
                    0 => -half,
                    1 => half - 1,
                    _ => (i as i128 * 7919 - 40_000) % half,
                })
                .collect()
        }
    };
    AppInstances {
        layout,
        model_commitment: Fr::from(11u64),
        input_commitment: Fr::from(22u64),
        context: Fr::from(33u64),
        sample_count: count,
        decisions,
        scores,
    }
}

#[test]
fn layout_round_trips() {
    for batch_size in [1usize, 2, 16, 64, 247, 248, 249, 300, 1024] {
        for score_bits in [None, Some(2), Some(7), Some(40), Some(62), Some(MAX_SCORE_BITS)] {
            let app = sample(batch_size, score_bits);
            let flat = app.to_vec();
            assert_eq!(flat.len(), app.layout.len(), "batch {batch_size}, bits {score_bits:?}");
            assert_eq!(flat[FLAGGED_COUNT_INDEX], Fr::from(app.flagged_count() as u64));
            assert_eq!(AppInstances::from_slice(app.layout, &flat).unwrap(), app, "batch {batch_size}");
        }
    }
}

#[test]
fn instance_count_grows_with_values_per_word() {
    let layout = |batch_size, score_bits| InstanceLayout { batch_size, score_bits };
    assert_eq!(layout(1, None).len(), 6);
    assert_eq!(layout(248, None).len(), 6);
    assert_eq!(layout(249, None).len(), 7);
    // 40-bit scores: 6 to a word.
    assert_eq!(layout(1, Some(40)).len(), 7);
    assert_eq!(layout(256, Some(40)).len(), HEADER_LEN + 2 + 43);
    assert_eq!(layout(1024, Some(40)).len(), HEADER_LEN + 5 + 171);
}

#[test]
fn decode_refuses_wrong_lengths_and_counts() {
    let layout = InstanceLayout { batch_size: 4, score_bits: None };
    assert!(matches!(AppInstances::from_slice(layout, &[Fr::zero(); 4]), Err(LayoutError::Length { .. })));
    let mut flat = vec![Fr::zero(); layout.len()];
    assert!(matches!(AppInstances::from_slice(layout, &flat), Err(LayoutError::Field { index: 3, .. })));
    flat[SAMPLE_COUNT_INDEX] = Fr::from(5u64);
    assert!(matches!(AppInstances::from_slice(layout, &flat), Err(LayoutError::Field { index: 3, .. })));
    flat[SAMPLE_COUNT_INDEX] = Fr::from(4u64);
    assert!(AppInstances::from_slice(layout, &flat).is_ok());
    flat[FLAGGED_COUNT_INDEX] = Fr::from(5u64);
    assert!(matches!(AppInstances::from_slice(layout, &flat), Err(LayoutError::Field { index: 4, .. })));
    flat[FLAGGED_COUNT_INDEX] = Fr::from(1u64);
    assert_eq!(AppInstances::from_slice(layout, &flat), Err(LayoutError::FlaggedCount { expected: 0, found: 1 }));
}

#[test]
fn decode_refuses_out_of_range_packed_values() {
    let app = sample(10, Some(40));
    let good = app.to_vec();
    let (dec, sc) = (app.layout.decisions_start(), app.layout.scores_start());
    let refused = |index: usize, value: Fr| {
        let mut flat = good.clone();
        flat[index] = value;
        AppInstances::from_slice(app.layout, &flat).unwrap_err()
    };
    // A decision bit past the batch, and one past the sample count (8 of 10).
    assert!(matches!(
        refused(dec, good[dec] + Fr::from(1u64 << 10)),
        LayoutError::Field { field: "decision word", .. }
    ));
    assert!(matches!(refused(dec, good[dec] + Fr::from(1u64 << 9)), LayoutError::Field { field: "decision word", .. }));
    // Bits of the second score word past its 4 slots (10 = 6 + 4), bit 248 and a full-field value.
    let past_slots = good[sc + 1] + super::super::field::pow2(160);
    assert!(matches!(refused(sc + 1, past_slots), LayoutError::Field { field: "score word", .. }));
    assert!(matches!(refused(sc, good[sc] + super::super::field::pow2(248)), LayoutError::Field { .. }));
    assert!(matches!(refused(sc, -Fr::one()), LayoutError::Field { .. }));
    // A non-zero score for a padding sample (slot 9 of the batch, past the 8 real ones).
    let padding = good[sc + 1] + super::super::field::pow2(3 * 40);
    assert!(matches!(refused(sc + 1, padding), LayoutError::Field { field: "score word", .. }));
}

#[test]
fn encode_refuses_scores_that_do_not_fit_the_width() {
    let mut app = sample(8, Some(10));
    app.scores[2] = 512;
    assert_eq!(app.encode(), Err(LayoutError::ScoreRange { sample: 2, value: 512, score_bits: 10 }));
    app.scores[2] = -513;
    assert_eq!(app.encode(), Err(LayoutError::ScoreRange { sample: 2, value: -513, score_bits: 10 }));
    app.scores[2] = -512;
    assert!(app.encode().is_ok());
}

#[test]
fn layouts_with_unpackable_widths_are_refused() {
    for bits in [0, 1, MAX_SCORE_BITS + 1, 248] {
        let layout = InstanceLayout { batch_size: 4, score_bits: Some(bits) };
        assert_eq!(layout.validate(), Err(LayoutError::ScoreBits { score_bits: bits }));
        assert!(score_words(&[], 4, bits).is_err());
    }
    assert_eq!(InstanceLayout { batch_size: 0, score_bits: None }.validate(), Err(LayoutError::BatchSize));
}

#[test]
fn bit_order_is_lsb_first() {
    assert_eq!(decision_words(&[true, false, true], 3), vec![Fr::from(0b101u64)]);
    // 4-bit scores, offset 8: [-8, 7, 0] -> slots [0, 15, 8].
    assert_eq!(score_words(&[-8, 7, 0], 3, 4).unwrap(), vec![Fr::from(0x8f0u64)]);
}
