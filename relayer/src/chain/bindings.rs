//! `sol!` bindings of the Guard (from `contracts/src/interfaces/IGuard.sol`) and of the errors a
//! submission can revert with: the Guard's own, the verifier wrapper's (bubbled up through
//! `verify`) and the policy actions' (bubbled up through `onVerified`).

alloy::sol! {
    /// `SubmissionContext` of `IGuard.sol`.
    #[derive(Debug, PartialEq, Eq)]
    struct SubmissionContext {
        uint64 nonce;
        uint64 issuedAt;
        address[] subjects;
    }

    /// The Guard (subset of `IGuard.sol` the relayer calls).
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    interface IGuard {
        event Verified(
            uint256 indexed modelId,
            uint64 indexed nonce,
            uint256[] inputCommitments,
            uint256 flaggedCount,
            uint256 sampleCount
        );

        function submit(uint256 modelId, SubmissionContext calldata ctx, uint256[] calldata instances, bytes calldata proof)
            external
            returns (uint256 flaggedCount, uint256 sampleCount);
        function isNonceUsed(uint256 modelId, uint64 nonce) external view returns (bool);
    }

    /// Every custom error a `Guard.submit` can revert with.
    #[derive(Debug, PartialEq, Eq)]
    interface SubmitErrors {
        // IGuardErrors
        error UnknownModel(uint256 modelId);
        error ModelIsRetired(uint256 modelId);
        error InstanceCountMismatch(uint256 expected, uint256 got);
        error ModelCommitmentMismatch(uint256 segment, uint256 expected, uint256 got);
        error ContextMismatch(uint256 segment, uint256 expected, uint256 got);
        error NonceAlreadyUsed(uint256 modelId, uint64 nonce);
        error StaleSubmission(uint64 issuedAt, uint32 maxAge, uint256 blockTimestamp);
        error IssuedInFuture(uint64 issuedAt, uint256 blockTimestamp);
        error InvalidSampleCount(uint256 segment, uint256 sampleCount, uint256 batchSize);
        error DecisionWordOutOfRange(uint256 segment, uint256 wordIndex, uint256 word);
        error SubjectsLengthMismatch(uint256 expected, uint256 got);
        // IZkGuardVerifierErrors (InstanceCountMismatch is shared with the Guard's)
        error InstanceOutOfField(uint256 index, uint256 value);
        error ProofRejected();
        // Policy actions (ICircuitBreakerErrors, IVerdictFilterErrors)
        error NotGuard(address caller);
        error TargetNotConfigured(uint256 modelId);
        error SubjectsRequired(uint256 modelId, uint64 nonce);
        // ReentrancyGuardTransient
        error ReentrancyGuardReentrantCall();
    }
}
