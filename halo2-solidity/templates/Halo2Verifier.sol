{{ header }}
// SPDX-License-Identifier: MIT
// Derived from PSE's halo2-solidity-verifier (commit f0626be, MIT License, Copyright (c) 2023
// Privacy & Scaling Explorations): see halo2-solidity/NOTICE.

pragma solidity ^0.8.19;

contract Halo2Verifier {
    // Canonical ABI layout of verifyProof(address vk, bytes proof, uint256[] instances): the
    // verifier reads fixed offsets, so it refuses any other encoding of the same call.
    uint256 internal constant   PROOF_OFFSET_CPTR = 0x24;
    uint256 internal constant INSTANCE_OFFSET_CPTR = 0x44;
    uint256 internal constant           PROOF_LEN = {{ proof_len|hex() }};
    uint256 internal constant              VK_LEN = {{ vk_len|hex() }};
    uint256 internal constant    PROOF_LEN_CPTR = {{ proof_cptr - 1 }};
    uint256 internal constant        PROOF_CPTR = {{ proof_cptr }};
    uint256 internal constant NUM_INSTANCE_CPTR = {{ proof_cptr + (proof_len / 32) }};
    uint256 internal constant     INSTANCE_CPTR = {{ proof_cptr + (proof_len / 32) + 1 }};

    uint256 internal constant FIRST_QUOTIENT_X_CPTR = {{ quotient_comm_cptr }};
    uint256 internal constant  LAST_QUOTIENT_X_CPTR = {{ quotient_comm_cptr + 2 * (num_quotients - 1) }};

    uint256 internal constant                VK_MPTR = {{ vk_mptr }};
    uint256 internal constant         VK_DIGEST_MPTR = {{ vk_mptr }};
    uint256 internal constant     NUM_INSTANCES_MPTR = {{ vk_mptr + 1 }};
    uint256 internal constant                 K_MPTR = {{ vk_mptr + 2 }};
    uint256 internal constant             N_INV_MPTR = {{ vk_mptr + 3 }};
    uint256 internal constant             OMEGA_MPTR = {{ vk_mptr + 4 }};
    uint256 internal constant         OMEGA_INV_MPTR = {{ vk_mptr + 5 }};
    uint256 internal constant    OMEGA_INV_TO_L_MPTR = {{ vk_mptr + 6 }};
    uint256 internal constant   HAS_ACCUMULATOR_MPTR = {{ vk_mptr + 7 }};
    uint256 internal constant        ACC_OFFSET_MPTR = {{ vk_mptr + 8 }};
    uint256 internal constant     NUM_ACC_LIMBS_MPTR = {{ vk_mptr + 9 }};
    uint256 internal constant NUM_ACC_LIMB_BITS_MPTR = {{ vk_mptr + 10 }};
    uint256 internal constant              G1_X_MPTR = {{ vk_mptr + 11 }};
    uint256 internal constant              G1_Y_MPTR = {{ vk_mptr + 12 }};
    uint256 internal constant            G2_X_1_MPTR = {{ vk_mptr + 13 }};
    uint256 internal constant            G2_X_2_MPTR = {{ vk_mptr + 14 }};
    uint256 internal constant            G2_Y_1_MPTR = {{ vk_mptr + 15 }};
    uint256 internal constant            G2_Y_2_MPTR = {{ vk_mptr + 16 }};
    uint256 internal constant      NEG_S_G2_X_1_MPTR = {{ vk_mptr + 17 }};
    uint256 internal constant      NEG_S_G2_X_2_MPTR = {{ vk_mptr + 18 }};
    uint256 internal constant      NEG_S_G2_Y_1_MPTR = {{ vk_mptr + 19 }};
    uint256 internal constant      NEG_S_G2_Y_2_MPTR = {{ vk_mptr + 20 }};

    uint256 internal constant CHALLENGE_MPTR = {{ challenge_mptr }};

    uint256 internal constant THETA_MPTR = {{ theta_mptr }};
    uint256 internal constant  BETA_MPTR = {{ theta_mptr + 1 }};
    uint256 internal constant GAMMA_MPTR = {{ theta_mptr + 2 }};
    uint256 internal constant     Y_MPTR = {{ theta_mptr + 3 }};
    uint256 internal constant     X_MPTR = {{ theta_mptr + 4 }};
    uint256 internal constant  ZETA_MPTR = {{ theta_mptr + 5 }};
    uint256 internal constant    NU_MPTR = {{ theta_mptr + 6 }};
    uint256 internal constant    MU_MPTR = {{ theta_mptr + 7 }};

    uint256 internal constant       ACC_LHS_X_MPTR = {{ theta_mptr + 8 }};
    uint256 internal constant       ACC_LHS_Y_MPTR = {{ theta_mptr + 9 }};
    uint256 internal constant       ACC_RHS_X_MPTR = {{ theta_mptr + 10 }};
    uint256 internal constant       ACC_RHS_Y_MPTR = {{ theta_mptr + 11 }};
    uint256 internal constant             X_N_MPTR = {{ theta_mptr + 12 }};
    uint256 internal constant X_N_MINUS_1_INV_MPTR = {{ theta_mptr + 13 }};
    uint256 internal constant          L_LAST_MPTR = {{ theta_mptr + 14 }};
    uint256 internal constant         L_BLIND_MPTR = {{ theta_mptr + 15 }};
    uint256 internal constant             L_0_MPTR = {{ theta_mptr + 16 }};
    uint256 internal constant   INSTANCE_EVAL_MPTR = {{ theta_mptr + 17 }};
    uint256 internal constant   QUOTIENT_EVAL_MPTR = {{ theta_mptr + 18 }};
    uint256 internal constant      QUOTIENT_X_MPTR = {{ theta_mptr + 19 }};
    uint256 internal constant      QUOTIENT_Y_MPTR = {{ theta_mptr + 20 }};
    uint256 internal constant       G1_SCALAR_MPTR = {{ theta_mptr + 21 }};
    uint256 internal constant   PAIRING_LHS_X_MPTR = {{ theta_mptr + 22 }};
    uint256 internal constant   PAIRING_LHS_Y_MPTR = {{ theta_mptr + 23 }};
    uint256 internal constant   PAIRING_RHS_X_MPTR = {{ theta_mptr + 24 }};
    uint256 internal constant   PAIRING_RHS_Y_MPTR = {{ theta_mptr + 25 }};

    /// The only entry point: `verifyProof(address vk, bytes proof, uint256[] instances)` (selector
    /// 0xaf83a18d), served by the fallback so that no Solidity parameter takes a stack slot the
    /// evaluation needs (call it through an interface declaring that function). Returns the ABI
    /// word `true` when `proof` is a valid proof of `instances` for the circuit whose verifying key
    /// is the code of `vk`; reverts otherwise. Which key is acceptable is the caller's business:
    /// pin `vk` (and its code hash) in the registry. It writes no state: STATICCALL it.
    fallback() external {
        assembly {
            // Read EC point (x, y) at (proof_cptr, proof_cptr + 0x20),
            // and check if the point is on affine plane,
            // and store them in (hash_mptr, hash_mptr + 0x20).
            // Return updated (success, proof_cptr, hash_mptr).
            function read_ec_point(success, proof_cptr, hash_mptr, q) -> ret0, ret1, ret2 {
                let x := calldataload(proof_cptr)
                let y := calldataload(add(proof_cptr, 0x20))
                ret0 := and(success, lt(x, q))
                ret0 := and(ret0, lt(y, q))
                ret0 := and(ret0, eq(mulmod(y, y, q), addmod(mulmod(x, mulmod(x, x, q), q), 3, q)))
                mstore(hash_mptr, x)
                mstore(add(hash_mptr, 0x20), y)
                ret1 := add(proof_cptr, 0x40)
                ret2 := add(hash_mptr, 0x40)
            }

            // Squeeze challenge by keccak256(memory[0..hash_mptr]),
            // and store hash mod r as challenge in challenge_mptr,
            // and push back hash in 0x00 as the first input for next squeeze.
            // Return updated (challenge_mptr, hash_mptr).
            function squeeze_challenge(challenge_mptr, hash_mptr, r) -> ret0, ret1 {
                let hash := keccak256(0x00, hash_mptr)
                mstore(challenge_mptr, mod(hash, r))
                mstore(0x00, hash)
                ret0 := add(challenge_mptr, 0x20)
                ret1 := 0x20
            }

            // Squeeze challenge without absorbing new input from calldata,
            // by putting an extra 0x01 in memory[0x20] and squeeze by keccak256(memory[0..21]),
            // and store hash mod r as challenge in challenge_mptr,
            // and push back hash in 0x00 as the first input for next squeeze.
            // Return updated (challenge_mptr).
            function squeeze_challenge_cont(challenge_mptr, r) -> ret {
                mstore8(0x20, 0x01)
                let hash := keccak256(0x00, 0x21)
                mstore(challenge_mptr, mod(hash, r))
                mstore(0x00, hash)
                ret := add(challenge_mptr, 0x20)
            }

            // Batch invert values in memory[mptr_start..mptr_end] in place.
            // Return updated (success).
            function batch_invert(success, mptr_start, mptr_end, r) -> ret {
                let gp_mptr := mptr_end
                let gp := mload(mptr_start)
                let mptr := add(mptr_start, 0x20)
                for
                    {}
                    lt(mptr, sub(mptr_end, 0x20))
                    {}
                {
                    gp := mulmod(gp, mload(mptr), r)
                    mstore(gp_mptr, gp)
                    mptr := add(mptr, 0x20)
                    gp_mptr := add(gp_mptr, 0x20)
                }
                gp := mulmod(gp, mload(mptr), r)

                mstore(gp_mptr, 0x20)
                mstore(add(gp_mptr, 0x20), 0x20)
                mstore(add(gp_mptr, 0x40), 0x20)
                mstore(add(gp_mptr, 0x60), gp)
                mstore(add(gp_mptr, 0x80), sub(r, 2))
                mstore(add(gp_mptr, 0xa0), r)
                ret := and(success, staticcall(gas(), 0x05, gp_mptr, 0xc0, gp_mptr, 0x20))
                let all_inv := mload(gp_mptr)

                let first_mptr := mptr_start
                let second_mptr := add(first_mptr, 0x20)
                gp_mptr := sub(gp_mptr, 0x20)
                for
                    {}
                    lt(second_mptr, mptr)
                    {}
                {
                    let inv := mulmod(all_inv, mload(gp_mptr), r)
                    all_inv := mulmod(all_inv, mload(mptr), r)
                    mstore(mptr, inv)
                    mptr := sub(mptr, 0x20)
                    gp_mptr := sub(gp_mptr, 0x20)
                }
                let inv_first := mulmod(all_inv, mload(second_mptr), r)
                let inv_second := mulmod(all_inv, mload(first_mptr), r)
                mstore(first_mptr, inv_first)
                mstore(second_mptr, inv_second)
            }

            // Add (x, y) into point at (0x00, 0x20).
            // Return updated (success).
            function ec_add_acc(success, x, y) -> ret {
                mstore(0x40, x)
                mstore(0x60, y)
                ret := and(success, staticcall(gas(), 0x06, 0x00, 0x80, 0x00, 0x40))
            }

            // Scale point at (0x00, 0x20) by scalar.
            function ec_mul_acc(success, scalar) -> ret {
                mstore(0x40, scalar)
                ret := and(success, staticcall(gas(), 0x07, 0x00, 0x60, 0x00, 0x40))
            }

            // Add (x, y) into point at (0x80, 0xa0).
            // Return updated (success).
            function ec_add_tmp(success, x, y) -> ret {
                mstore(0xc0, x)
                mstore(0xe0, y)
                ret := and(success, staticcall(gas(), 0x06, 0x80, 0x80, 0x80, 0x40))
            }

            // Scale point at (0x80, 0xa0) by scalar.
            // Return updated (success).
            function ec_mul_tmp(success, scalar) -> ret {
                mstore(0xc0, scalar)
                ret := and(success, staticcall(gas(), 0x07, 0x80, 0x60, 0x80, 0x40))
            }

            // Perform pairing check.
            // Return updated (success).
            function ec_pairing(success, lhs_x, lhs_y, rhs_x, rhs_y) -> ret {
                mstore(0x00, lhs_x)
                mstore(0x20, lhs_y)
                mstore(0x40, mload(G2_X_1_MPTR))
                mstore(0x60, mload(G2_X_2_MPTR))
                mstore(0x80, mload(G2_Y_1_MPTR))
                mstore(0xa0, mload(G2_Y_2_MPTR))
                mstore(0xc0, rhs_x)
                mstore(0xe0, rhs_y)
                mstore(0x100, mload(NEG_S_G2_X_1_MPTR))
                mstore(0x120, mload(NEG_S_G2_X_2_MPTR))
                mstore(0x140, mload(NEG_S_G2_Y_1_MPTR))
                mstore(0x160, mload(NEG_S_G2_Y_2_MPTR))
                ret := and(success, staticcall(gas(), 0x08, 0x00, 0x180, 0x00, 0x20))
                ret := and(ret, mload(0x00))
            }

            // Modulus
            let q := 21888242871839275222246405745257275088696311157297823662689037894645226208583 // BN254 base field
            let r := 21888242871839275222246405745257275088548364400416034343698204186575808495617 // BN254 scalar field

            // Initialize success as true
            let success := true

            {
                // The function is verifyProof(address,bytes,uint256[])
                success := and(success, eq(shr(224, calldataload(0x00)), 0xaf83a18d))

                // The verifying key is a contract whose code is exactly a key of this proof
                // system's size (an address without code would read as zeros)
                let vk := calldataload(0x04)
                success := and(success, eq(vk, and(vk, 0xffffffffffffffffffffffffffffffffffffffff)))
                success := and(success, eq(extcodesize(vk), VK_LEN))

                // Copy vk_digest and num_instances of vk into memory
                extcodecopy(vk, VK_MPTR, 0x00, 0x40)

                // Check valid length of proof
                success := and(success, eq(PROOF_LEN, calldataload(PROOF_LEN_CPTR)))

                // Check valid length of instances
                let num_instances := mload(NUM_INSTANCES_MPTR)
                success := and(success, eq(num_instances, calldataload(NUM_INSTANCE_CPTR)))

                // Check the canonical ABI offsets and the exact calldata length (no trailing
                // bytes, none missing)
                success := and(success, eq(calldataload(PROOF_OFFSET_CPTR), 0x60))
                success := and(success, eq(calldataload(INSTANCE_OFFSET_CPTR), add(0x80, PROOF_LEN)))
                success := and(success, eq(calldatasize(), add(INSTANCE_CPTR, mul(0x20, num_instances))))

                // Absorb vk diegst
                mstore(0x00, mload(VK_DIGEST_MPTR))

                // Read instances and witness commitments and generate challenges
                let hash_mptr := 0x20
                let instance_cptr := INSTANCE_CPTR
                for
                    { let instance_cptr_end := add(instance_cptr, mul(0x20, num_instances)) }
                    lt(instance_cptr, instance_cptr_end)
                    {}
                {
                    let instance := calldataload(instance_cptr)
                    success := and(success, lt(instance, r))
                    mstore(hash_mptr, instance)
                    instance_cptr := add(instance_cptr, 0x20)
                    hash_mptr := add(hash_mptr, 0x20)
                }

                let proof_cptr := PROOF_CPTR
                let challenge_mptr := CHALLENGE_MPTR
                {%- for num_advices in num_advices %}

                // Phase {{ loop.index }}
                for
                    { let proof_cptr_end := add(proof_cptr, {{ (2 * 32 * num_advices)|hex() }}) }
                    lt(proof_cptr, proof_cptr_end)
                    {}
                {
                    success, proof_cptr, hash_mptr := read_ec_point(success, proof_cptr, hash_mptr, q)
                }

                challenge_mptr, hash_mptr := squeeze_challenge(challenge_mptr, hash_mptr, r)
                {%- for _ in 0..num_challenges[loop.index0] - 1 %}
                challenge_mptr := squeeze_challenge_cont(challenge_mptr, r)
                {%- endfor %}
                {%- endfor %}

                // Read evaluations
                for
                    { let proof_cptr_end := add(proof_cptr, {{ (32 * num_evals)|hex() }}) }
                    lt(proof_cptr, proof_cptr_end)
                    {}
                {
                    let eval := calldataload(proof_cptr)
                    success := and(success, lt(eval, r))
                    mstore(hash_mptr, eval)
                    proof_cptr := add(proof_cptr, 0x20)
                    hash_mptr := add(hash_mptr, 0x20)
                }

                // Read batch opening proof and generate challenges
                challenge_mptr, hash_mptr := squeeze_challenge(challenge_mptr, hash_mptr, r)       // zeta
                challenge_mptr := squeeze_challenge_cont(challenge_mptr, r)                        // nu

                success, proof_cptr, hash_mptr := read_ec_point(success, proof_cptr, hash_mptr, q) // W

                challenge_mptr, hash_mptr := squeeze_challenge(challenge_mptr, hash_mptr, r)       // mu

                success, proof_cptr, hash_mptr := read_ec_point(success, proof_cptr, hash_mptr, q) // W'


                // Copy full vk into memory
                extcodecopy(vk, VK_MPTR, 0x00, VK_LEN)

                // The key's accumulator encoding must be this verifier's (none for app circuits):
                // an aggregation key is refused by an app verifier and the reverse
                success := and(success, eq(mload(HAS_ACCUMULATOR_MPTR), {{ acc_words[0] }}))
                success := and(success, eq(mload(ACC_OFFSET_MPTR), {{ acc_words[1] }}))
                success := and(success, eq(mload(NUM_ACC_LIMBS_MPTR), {{ acc_words[2] }}))
                success := and(success, eq(mload(NUM_ACC_LIMB_BITS_MPTR), {{ acc_words[3] }}))
                {%- if !accumulator_computations.is_empty() %}

                // Read the KZG accumulator from the instances: every limb range-checked, the
                // coordinates below q, both points on the curve
                {
                    {%- for line in accumulator_computations %}
                    {{ line }}
                    {%- endfor %}
                }
                {%- endif %}

                pop(q)
            }

            // Revert earlier if anything from calldata is invalid
            if iszero(success) {
                revert(0, 0)
            }

            // Compute lagrange evaluations and instance evaluation
            {
                let k := mload(K_MPTR)
                let x := mload(X_MPTR)
                let x_n := x
                for
                    { let idx := 0 }
                    lt(idx, k)
                    { idx := add(idx, 1) }
                {
                    x_n := mulmod(x_n, x_n, r)
                }

                let omega := mload(OMEGA_MPTR)

                let mptr := X_N_MPTR
                let mptr_end := add(mptr, mul(0x20, add(mload(NUM_INSTANCES_MPTR), {{ num_neg_lagranges }})))
                if iszero(mload(NUM_INSTANCES_MPTR)) {
                    mptr_end := add(mptr_end, 0x20)
                }
                for
                    { let pow_of_omega := mload(OMEGA_INV_TO_L_MPTR) }
                    lt(mptr, mptr_end)
                    { mptr := add(mptr, 0x20) }
                {
                    mstore(mptr, addmod(x, sub(r, pow_of_omega), r))
                    pow_of_omega := mulmod(pow_of_omega, omega, r)
                }
                let x_n_minus_1 := addmod(x_n, sub(r, 1), r)
                mstore(mptr_end, x_n_minus_1)
                success := batch_invert(success, X_N_MPTR, add(mptr_end, 0x20), r)

                mptr := X_N_MPTR
                let l_i_common := mulmod(x_n_minus_1, mload(N_INV_MPTR), r)
                for
                    { let pow_of_omega := mload(OMEGA_INV_TO_L_MPTR) }
                    lt(mptr, mptr_end)
                    { mptr := add(mptr, 0x20) }
                {
                    mstore(mptr, mulmod(l_i_common, mulmod(mload(mptr), pow_of_omega, r), r))
                    pow_of_omega := mulmod(pow_of_omega, omega, r)
                }

                let l_blind := mload(add(X_N_MPTR, 0x20))
                let l_i_cptr := add(X_N_MPTR, 0x40)
                for
                    { let l_i_cptr_end := add(X_N_MPTR, {{ (num_neg_lagranges * 32)|hex() }}) }
                    lt(l_i_cptr, l_i_cptr_end)
                    { l_i_cptr := add(l_i_cptr, 0x20) }
                {
                    l_blind := addmod(l_blind, mload(l_i_cptr), r)
                }

                let instance_eval := 0
                for
                    {
                        let instance_cptr := INSTANCE_CPTR
                        let instance_cptr_end := add(instance_cptr, mul(0x20, mload(NUM_INSTANCES_MPTR)))
                    }
                    lt(instance_cptr, instance_cptr_end)
                    {
                        instance_cptr := add(instance_cptr, 0x20)
                        l_i_cptr := add(l_i_cptr, 0x20)
                    }
                {
                    instance_eval := addmod(instance_eval, mulmod(mload(l_i_cptr), calldataload(instance_cptr), r), r)
                }

                let x_n_minus_1_inv := mload(mptr_end)
                let l_last := mload(X_N_MPTR)
                let l_0 := mload(add(X_N_MPTR, {{ (num_neg_lagranges * 32)|hex() }}))

                mstore(X_N_MPTR, x_n)
                mstore(X_N_MINUS_1_INV_MPTR, x_n_minus_1_inv)
                mstore(L_LAST_MPTR, l_last)
                mstore(L_BLIND_MPTR, l_blind)
                mstore(L_0_MPTR, l_0)
                mstore(INSTANCE_EVAL_MPTR, instance_eval)
            }

            // Compute quotient evavluation
            {
                let quotient_eval_numer
                let delta := {{ delta }}
                let y := mload(Y_MPTR)

                {%- for code_block in quotient_eval_numer_computations %}
                {
                    {%- for line in code_block %}
                    {{ line }}
                    {%- endfor %}
                }
                {%- endfor %}

                pop(y)
                pop(delta)

                let quotient_eval := mulmod(quotient_eval_numer, mload(X_N_MINUS_1_INV_MPTR), r)
                mstore(QUOTIENT_EVAL_MPTR, quotient_eval)
            }

            // Compute quotient commitment
            {
                mstore(0x00, calldataload(LAST_QUOTIENT_X_CPTR))
                mstore(0x20, calldataload(add(LAST_QUOTIENT_X_CPTR, 0x20)))
                let x_n := mload(X_N_MPTR)
                for
                    {
                        let cptr := sub(LAST_QUOTIENT_X_CPTR, 0x40)
                        let cptr_end := sub(FIRST_QUOTIENT_X_CPTR, 0x40)
                    }
                    lt(cptr_end, cptr)
                    {}
                {
                    success := ec_mul_acc(success, x_n)
                    success := ec_add_acc(success, calldataload(cptr), calldataload(add(cptr, 0x20)))
                    cptr := sub(cptr, 0x40)
                }
                mstore(QUOTIENT_X_MPTR, mload(0x00))
                mstore(QUOTIENT_Y_MPTR, mload(0x20))
            }

            // Compute pairing lhs and rhs
            {
                {%- for code_block in pcs_computations %}
                {
                    {%- for line in code_block %}
                    {{ line }}
                    {%- endfor %}
                }
                {%- endfor %}
            }

            {%- if !accumulator_computations.is_empty() %}

            // Fold the accumulator into the pairing with a random challenge c:
            // lhs += c * acc_lhs, rhs += c * acc_rhs
            {
                mstore(0x00, mload(ACC_LHS_X_MPTR))
                mstore(0x20, mload(ACC_LHS_Y_MPTR))
                mstore(0x40, mload(ACC_RHS_X_MPTR))
                mstore(0x60, mload(ACC_RHS_Y_MPTR))
                mstore(0x80, mload(PAIRING_LHS_X_MPTR))
                mstore(0xa0, mload(PAIRING_LHS_Y_MPTR))
                mstore(0xc0, mload(PAIRING_RHS_X_MPTR))
                mstore(0xe0, mload(PAIRING_RHS_Y_MPTR))
                let challenge := mod(keccak256(0x00, 0x100), r)

                // [pairing_lhs] += challenge * [acc_lhs]
                success := ec_mul_acc(success, challenge)
                success := ec_add_acc(success, mload(PAIRING_LHS_X_MPTR), mload(PAIRING_LHS_Y_MPTR))
                mstore(PAIRING_LHS_X_MPTR, mload(0x00))
                mstore(PAIRING_LHS_Y_MPTR, mload(0x20))

                // [pairing_rhs] += challenge * [acc_rhs]
                mstore(0x00, mload(ACC_RHS_X_MPTR))
                mstore(0x20, mload(ACC_RHS_Y_MPTR))
                success := ec_mul_acc(success, challenge)
                success := ec_add_acc(success, mload(PAIRING_RHS_X_MPTR), mload(PAIRING_RHS_Y_MPTR))
                mstore(PAIRING_RHS_X_MPTR, mload(0x00))
                mstore(PAIRING_RHS_Y_MPTR, mload(0x20))
            }
            {%- endif %}

            // Perform pairing
            success := ec_pairing(
                success,
                mload(PAIRING_LHS_X_MPTR),
                mload(PAIRING_LHS_Y_MPTR),
                mload(PAIRING_RHS_X_MPTR),
                mload(PAIRING_RHS_Y_MPTR)
            )

            // Revert if anything fails
            if iszero(success) {
                revert(0x00, 0x00)
            }

            // Return 1 as result if everything succeeds
            mstore(0x00, 1)
            return(0x00, 0x20)
        }
    }
}
