// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

import {IGuardAction} from "./interfaces/IGuardAction.sol";
import {FlaggedBits, VerifiedResult} from "./interfaces/IGuard.sol";
import {
    IVerdictFilter,
    IVerdictFilterErrors,
    IVerdictFilterEvents,
    Verdict
} from "./interfaces/IVerdictFilter.sol";

/// @title VerdictFilter
/// @notice A Guard action that records a verdict per subject (allowed or flagged) that expires
///         after a governance-set TTL; protected contracts ask {isAllowed}.
/// @dev Flags are sticky until they expire or governance clears them: an "allowed" verdict never
///      replaces an unexpired flagged one (also within one submission, where a subject listed twice
///      is flagged if any of its samples is), while a new flagged verdict always replaces the old
///      one and keeps the later expiry.
contract VerdictFilter is
    IGuardAction,
    IVerdictFilter,
    IVerdictFilterErrors,
    IVerdictFilterEvents,
    Ownable2Step
{
    /// @notice The Guard allowed to call {onVerified}.
    address public immutable guard;
    /// @notice How long a recorded verdict applies (seconds).
    uint64 public verdictTtl;

    mapping(address subject => Verdict) private _verdicts;

    /// @notice Creates a filter for `guard_`, governed by `initialOwner`.
    /// @param guard_ The Guard contract.
    /// @param initialOwner Governance.
    /// @param ttl Initial verdict TTL in seconds (> 0).
    constructor(address guard_, address initialOwner, uint64 ttl) Ownable(initialOwner) {
        if (guard_.code.length == 0) revert GuardHasNoCode(guard_);
        if (ttl == 0) revert InvalidTtl(ttl);
        guard = guard_;
        verdictTtl = ttl;
        emit VerdictTtlUpdated(0, ttl);
    }

    /// @inheritdoc IGuardAction
    /// @dev A filter records verdicts; it never pauses a target.
    function canPause() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IGuardAction
    /// @dev Records one verdict per subject; reverts with {SubjectsRequired} without subjects.
    function onVerified(VerifiedResult calldata result) external {
        if (msg.sender != guard) revert NotGuard(msg.sender);
        uint256 n = result.subjects.length;
        if (n == 0) revert SubjectsRequired(result.modelId, result.nonce);
        uint64 expiresAt = uint64(block.timestamp) + verdictTtl;
        for (uint256 i = 0; i < n; ++i) {
            address subject = result.subjects[i];
            bool flagged = FlaggedBits.isFlagged(result.flaggedBits, i);
            Verdict storage v = _verdicts[subject];
            bool activeFlag = v.flagged && v.expiresAt > block.timestamp;
            if (!flagged && activeFlag) continue;
            uint64 until = (flagged && activeFlag && v.expiresAt > expiresAt) ? v.expiresAt : expiresAt;
            v.flagged = flagged;
            v.expiresAt = until;
            v.nonce = result.nonce;
            emit VerdictRecorded(subject, result.modelId, result.nonce, flagged, until);
        }
    }

    /// @inheritdoc IVerdictFilter
    function isAllowed(address subject) external view returns (bool) {
        Verdict storage v = _verdicts[subject];
        return !(v.flagged && v.expiresAt > block.timestamp);
    }

    /// @notice The latest recorded verdict of a subject (all zero when none).
    /// @param subject The account.
    /// @return The verdict.
    function verdictOf(address subject) external view returns (Verdict memory) {
        return _verdicts[subject];
    }

    /// @notice Clears a subject's verdict (governance only).
    /// @param subject The account.
    function clearVerdict(address subject) external onlyOwner {
        delete _verdicts[subject];
        emit VerdictCleared(subject, msg.sender);
    }

    /// @notice Changes the TTL of verdicts recorded from now on (governance only).
    /// @param ttl The new TTL in seconds (> 0).
    function setVerdictTtl(uint64 ttl) external onlyOwner {
        if (ttl == 0) revert InvalidTtl(ttl);
        emit VerdictTtlUpdated(verdictTtl, ttl);
        verdictTtl = ttl;
    }
}
