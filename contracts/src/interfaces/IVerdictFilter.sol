// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A subject's latest recorded verdict (one storage slot; the model id that produced it is
///         in the VerdictRecorded event).
/// @param flagged True when the subject was flagged.
/// @param expiresAt The verdict no longer applies from this time on (unix seconds).
/// @param nonce The submission nonce that recorded it.
struct Verdict {
    bool flagged;
    uint64 expiresAt;
    uint64 nonce;
}

/// @title IVerdictFilterErrors
interface IVerdictFilterErrors {
    /// @notice The caller is not the Guard.
    error NotGuard(address caller);
    /// @notice The guard address given to the constructor holds no code.
    error GuardHasNoCode(address guard);
    /// @notice The TTL is zero.
    error InvalidTtl(uint64 ttl);
    /// @notice The verified result carries no subjects, so there is nothing to record.
    error SubjectsRequired(uint256 modelId, uint64 nonce);
}

/// @title IVerdictFilterEvents
interface IVerdictFilterEvents {
    /// @notice A verdict was recorded for a subject.
    event VerdictRecorded(
        address indexed subject, uint256 indexed modelId, uint64 nonce, bool flagged, uint64 expiresAt
    );
    /// @notice Governance cleared a subject's verdict.
    event VerdictCleared(address indexed subject, address indexed by);
    /// @notice Governance changed the verdict TTL.
    event VerdictTtlUpdated(uint64 oldTtl, uint64 newTtl);
}

/// @title IVerdictFilter
/// @notice Read side of the per-subject verdict filter, for protected contracts.
interface IVerdictFilter {
    /// @notice Whether a subject may act: true unless it has an unexpired flagged verdict.
    /// @param subject The account to check.
    /// @return True when allowed.
    function isAllowed(address subject) external view returns (bool);
}
