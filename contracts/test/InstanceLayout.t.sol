// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {InstanceLayout} from "../src/InstanceLayout.sol";

/// @dev Exposes the library's internal functions so reverts can be expected.
contract LayoutHarness {
    function decodeSigned(uint256 x) external pure returns (int256) {
        return InstanceLayout.decodeSigned(x);
    }

    function encodeSigned(int256 v) external pure returns (uint256) {
        return InstanceLayout.encodeSigned(v);
    }
}

contract InstanceLayoutTest is Test {
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    LayoutHarness internal h;

    function setUp() public {
        h = new LayoutHarness();
    }

    function test_constants() public pure {
        assertEq(InstanceLayout.FIELD_MODULUS, R);
        assertEq(InstanceLayout.MAX_POSITIVE, (R - 1) / 2);
        assertEq(InstanceLayout.DECISION_BITS_PER_WORD, 248);
        assertEq(InstanceLayout.DECISION_WORD_BOUND, uint256(1) << 248);
        assertLt(InstanceLayout.DECISION_WORD_BOUND, R);
        assertEq(InstanceLayout.ACCUMULATOR_LIMBS, 12);
        assertEq(InstanceLayout.MODEL_COMMITMENT_OFFSET, 0);
        assertEq(InstanceLayout.INPUT_COMMITMENT_OFFSET, 1);
        assertEq(InstanceLayout.CONTEXT_OFFSET, 2);
        assertEq(InstanceLayout.SAMPLE_COUNT_OFFSET, 3);
        assertEq(InstanceLayout.FLAGGED_COUNT_OFFSET, 4);
        assertEq(InstanceLayout.DECISIONS_OFFSET, 5);
        assertEq(InstanceLayout.HEADER_INSTANCES, 5);
        assertEq(InstanceLayout.SCORE_WORD_BITS, 248);
        assertLt(uint256(1) << InstanceLayout.SCORE_WORD_BITS, R);
    }

    function test_decisionWordCount() public pure {
        assertEq(InstanceLayout.decisionWordCount(1), 1);
        assertEq(InstanceLayout.decisionWordCount(248), 1);
        assertEq(InstanceLayout.decisionWordCount(249), 2);
        assertEq(InstanceLayout.decisionWordCount(496), 2);
        assertEq(InstanceLayout.decisionWordCount(497), 3);
    }

    function test_appInstanceCount() public pure {
        assertEq(InstanceLayout.appInstanceCount(1, 0), 6);
        assertEq(InstanceLayout.appInstanceCount(4, 40), 7);
        assertEq(InstanceLayout.appInstanceCount(248, 0), 6);
        assertEq(InstanceLayout.appInstanceCount(250, 0), 7);
        // 40-bit scores, 6 to a word: 250 samples need 42 score words.
        assertEq(InstanceLayout.appInstanceCount(250, 40), 7 + 42);
        assertEq(InstanceLayout.appInstanceCount(1024, 40), 5 + 5 + 171);
        assertEq(InstanceLayout.scoresPerWord(0), 0);
        assertEq(InstanceLayout.scoresPerWord(7), 35);
        assertEq(InstanceLayout.scoreWordCount(1024, 0), 0);
        assertEq(InstanceLayout.scoresOffset(250), 7);
    }

    function test_decisionBit_lsbFirstAcrossWords() public pure {
        uint256[] memory words = new uint256[](2);
        words[0] = 1 | (uint256(1) << 247);
        words[1] = 2;
        assertTrue(InstanceLayout.decisionBit(words, 0));
        assertFalse(InstanceLayout.decisionBit(words, 1));
        assertTrue(InstanceLayout.decisionBit(words, 247));
        assertFalse(InstanceLayout.decisionBit(words, 248));
        assertTrue(InstanceLayout.decisionBit(words, 249));
    }

    function test_decodeSigned_boundaries() public view {
        assertEq(h.decodeSigned(0), 0);
        assertEq(h.decodeSigned(1), 1);
        assertEq(h.decodeSigned((R - 1) / 2), int256((R - 1) / 2));
        assertEq(h.decodeSigned((R - 1) / 2 + 1), -int256((R - 1) / 2));
        assertEq(h.decodeSigned(R - 1), -1);
    }

    function test_decodeSigned_notInField_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(InstanceLayout.NotAFieldElement.selector, R));
        h.decodeSigned(R);
        vm.expectRevert(abi.encodeWithSelector(InstanceLayout.NotAFieldElement.selector, type(uint256).max));
        h.decodeSigned(type(uint256).max);
    }

    function test_encodeSigned_boundaries() public view {
        assertEq(h.encodeSigned(0), 0);
        assertEq(h.encodeSigned(-1), R - 1);
        assertEq(h.encodeSigned(int256((R - 1) / 2)), (R - 1) / 2);
        assertEq(h.encodeSigned(-int256((R - 1) / 2)), (R - 1) / 2 + 1);
    }

    function test_encodeSigned_outOfRange_reverts() public {
        int256 big = int256((R - 1) / 2) + 1;
        vm.expectRevert(abi.encodeWithSelector(InstanceLayout.SignedValueOutOfRange.selector, big));
        h.encodeSigned(big);
        vm.expectRevert(abi.encodeWithSelector(InstanceLayout.SignedValueOutOfRange.selector, -big));
        h.encodeSigned(-big);
        vm.expectRevert(
            abi.encodeWithSelector(InstanceLayout.SignedValueOutOfRange.selector, type(int256).min)
        );
        h.encodeSigned(type(int256).min);
    }

    function testFuzz_signedRoundTrip_fromValue(int256 v) public view {
        int256 m = int256((R - 1) / 2);
        v = bound(v, -m, m);
        assertEq(h.decodeSigned(h.encodeSigned(v)), v);
    }

    function testFuzz_signedRoundTrip_fromField(uint256 x) public view {
        x = bound(x, 0, R - 1);
        assertEq(h.encodeSigned(h.decodeSigned(x)), x);
    }

    function testFuzz_decodeSigned_rejectsNonField(uint256 x) public {
        x = bound(x, R, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(InstanceLayout.NotAFieldElement.selector, x));
        h.decodeSigned(x);
    }

    function test_subjectsDigest_padsAddressesTo32Bytes() public pure {
        address[] memory s = new address[](2);
        s[0] = address(0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa);
        s[1] = address(0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB);
        bytes memory manual = bytes.concat(bytes32(uint256(uint160(s[0]))), bytes32(uint256(uint160(s[1]))));
        assertEq(InstanceLayout.subjectsDigest(s), keccak256(manual));
        assertEq(
            InstanceLayout.subjectsDigest(s),
            0x954d47c62c658330584768e7cc0742a4b80ebe26baf5eb5f94795db969818388
        );
        assertEq(
            InstanceLayout.subjectsDigest(new address[](0)),
            0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470
        );
    }

    /// @dev Known-answer vector for the Rust side (computed independently with `cast`).
    function test_contextHash_knownAnswer() public pure {
        address[] memory s = new address[](2);
        s[0] = address(0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa);
        s[1] = address(0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB);
        uint256 ctx = InstanceLayout.contextHash(
            31337, address(0xA1), 1, 7, 1_700_000_000, InstanceLayout.subjectsDigest(s)
        );
        assertEq(ctx, 321420112393109081887600119227572554560628260741574193697391883437081978075);
        assertLt(ctx, R);
    }

    function testFuzz_contextHash_isFieldElement(
        uint256 chainId,
        address g,
        uint256 id,
        uint64 n,
        uint64 t,
        bytes32 d
    ) public pure {
        uint256 ctx = InstanceLayout.contextHash(chainId, g, id, n, t, d);
        assertLt(ctx, R);
        assertEq(ctx, uint256(keccak256(abi.encode(chainId, g, id, uint256(n), uint256(t), d))) % R);
    }
}
