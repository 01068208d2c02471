// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VerifiedResult} from "./IGuard.sol";

/// @title IGuardAction
/// @notice The hook a Guard calls with a verified result (circuit breaker, verdict filter, ...).
interface IGuardAction {
    /// @notice Acts on a verified result. Implementations must accept calls from their Guard only.
    /// @dev A revert here reverts the whole submission (the nonce is then not consumed).
    /// @param result The decoded, verified outputs of the submission.
    function onVerified(VerifiedResult calldata result) external;

    /// @notice Whether this action can pause a target (the registry refuses `Open` inputs then).
    /// @return True when a verified result can pause or otherwise stop something.
    function canPause() external view returns (bool);
}
