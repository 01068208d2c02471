// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Script} from "forge-std/Script.sol";

import {ModelRegistry} from "../src/ModelRegistry.sol";
import {Guard} from "../src/Guard.sol";
import {CircuitBreaker} from "../src/CircuitBreaker.sol";
import {VerdictFilter} from "../src/VerdictFilter.sol";
import {ZkGuardVerifier} from "../src/ZkGuardVerifier.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {ProtectedVault} from "../src/examples/ProtectedVault.sol";
import {FilteredToken} from "../src/examples/FilteredToken.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {InputMode, InputPolicy, ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {TargetKind} from "../src/interfaces/ICircuitBreaker.sol";

/// @title Deploy
/// @notice Deploys the zkguard contracts (registry, guard, circuit breaker, verdict filter, example
///         vault and token) and, when given a generated verifier, the verifier, its wrapper and a
///         registered model; writes the addresses to `contracts/deployments/<chainid>.json`.
/// @dev Local run (anvil's first dev key: PUBLIC, DEV-ONLY, never use it on a real network):
///        forge script contracts/script/Deploy.s.sol --rpc-url http://127.0.0.1:8545 --broadcast \
///          --private-key 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
///      Environment (all optional unless noted):
///        ZKGUARD_OWNER              governance address (default: the broadcaster). When it differs
///                                   from the broadcaster, ownership of registry/breaker/filter is
///                                   offered to it (Ownable2Step: it must call acceptOwnership).
///        ZKGUARD_VERDICT_TTL        verdict TTL in seconds (default 86400)
///        ZKGUARD_TOKEN_SUPPLY       FilteredToken supply minted to the owner (default 1e24)
///        ZKGUARD_VERIFIER_ARTIFACT  path (from the project root, under contracts/fixtures or
///                                   contracts/out) of the generated verifier's creation bytecode:
///                                   a hex file (0x optional) or a forge artifact JSON (.bytecode.object).
///                                   Without it no verifier is deployed and no model registered.
///      With ZKGUARD_VERIFIER_ARTIFACT:
///        ZKGUARD_CIRCUIT_DIGEST     (required) bytes32 circuit digest of the generated verifier
///        ZKGUARD_PROOF_LENGTH       (required) the circuit's exact proof length in bytes
///        ZKGUARD_INPUT_POLICY       "attested" (default), "submitters" or "open" (refused for a
///                                   breaker: anyone could pause the vault with invented rows)
///        ZKGUARD_INPUT_MEMBERS      comma-separated attesters (attested) or submitters (required
///                                   unless open)
///        ZKGUARD_ATTEST_THRESHOLD   attester signatures required, default 1
///        ZKGUARD_MODEL_COMMITMENT   (required) the model's Poseidon commitment (< R)
///        ZKGUARD_BATCH_SIZE         (required) samples per app proof
///        ZKGUARD_SCORE_BITS         default 0 (no scores; else the packed score width)
///        ZKGUARD_SCORE_SCALE_BITS   default 0
///        ZKGUARD_PROOF_COUNT        default 1 (direct); > 1 for an aggregated verifier
///        ZKGUARD_ACCUMULATOR_LIMBS  default 0 when PROOF_COUNT is 1, else 12
///        ZKGUARD_MODEL_ID           default 1
///        ZKGUARD_ACTION             "breaker" (default, pauses the vault), "filter" or "none"
///        ZKGUARD_MAX_AGE            seconds, default 3600
///        ZKGUARD_MIN_FLAGGED        default 1 (0 disables the flag-count rule)
///        ZKGUARD_USE_SCORE_THRESHOLD / ZKGUARD_SCORE_THRESHOLD  default false / 0
contract Deploy is Script {
    /// @notice What gets deployed and how.
    struct Config {
        address owner;
        uint64 verdictTtl;
        uint256 tokenSupply;
        bytes verifierCreationCode; // empty: no verifier, no model
        bytes32 circuitDigest;
        uint256 modelId;
        uint256 modelCommitment;
        uint16 batchSize;
        uint8 scoreBits;
        uint8 scoreScaleBits;
        uint256 proofCount;
        uint256 accumulatorLimbs;
        uint256 proofLength;
        InputPolicy inputPolicy;
        string action; // "breaker" | "filter" | "none"
        uint32 maxAge;
        uint32 minFlagged;
        bool useScoreThreshold;
        int256 scoreThreshold;
    }

    /// @notice Deployed addresses.
    struct Deployment {
        ModelRegistry registry;
        Guard guard;
        CircuitBreaker breaker;
        VerdictFilter filter;
        ProtectedVault vault;
        FilteredToken token;
        address generatedVerifier;
        ZkGuardVerifier verifier;
    }

    /// @notice The generated verifier's creation code did not deploy.
    error VerifierDeploymentFailed();
    /// @notice ZKGUARD_ACTION is not one of breaker / filter / none.
    error UnknownAction(string action);
    /// @notice ZKGUARD_INPUT_POLICY is not one of attested / submitters / open.
    error UnknownInputPolicy(string policy);

    /// @notice Entry point for `forge script`: reads the environment, deploys, writes the JSON.
    function run() external returns (Deployment memory d) {
        Config memory cfg = configFromEnv();
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        if (cfg.owner == address(0)) cfg.owner = deployer;
        d = deploy(cfg, deployer);
        vm.stopBroadcast();
        writeDeployment(cfg, d, deployer);
    }

    /// @notice Reads the configuration from the environment (see the contract's docs).
    /// @return cfg The configuration (owner 0: the broadcaster).
    function configFromEnv() public view returns (Config memory cfg) {
        cfg.owner = vm.envOr("ZKGUARD_OWNER", address(0));
        cfg.verdictTtl = uint64(vm.envOr("ZKGUARD_VERDICT_TTL", uint256(1 days)));
        cfg.tokenSupply = vm.envOr("ZKGUARD_TOKEN_SUPPLY", uint256(1_000_000 ether));
        string memory artifact = vm.envOr("ZKGUARD_VERIFIER_ARTIFACT", string(""));
        if (bytes(artifact).length == 0) return cfg;

        cfg.verifierCreationCode = readCreationCode(artifact);
        cfg.circuitDigest = vm.envBytes32("ZKGUARD_CIRCUIT_DIGEST");
        cfg.proofLength = vm.envUint("ZKGUARD_PROOF_LENGTH");
        cfg.inputPolicy.mode = _inputMode(vm.envOr("ZKGUARD_INPUT_POLICY", string("attested")));
        if (cfg.inputPolicy.mode != InputMode.Open) {
            cfg.inputPolicy.members = vm.envAddress("ZKGUARD_INPUT_MEMBERS", ",");
        }
        if (cfg.inputPolicy.mode == InputMode.Attested) {
            cfg.inputPolicy.threshold = uint8(vm.envOr("ZKGUARD_ATTEST_THRESHOLD", uint256(1)));
        }
        cfg.modelCommitment = vm.envUint("ZKGUARD_MODEL_COMMITMENT");
        cfg.batchSize = uint16(vm.envUint("ZKGUARD_BATCH_SIZE"));
        cfg.scoreBits = uint8(vm.envOr("ZKGUARD_SCORE_BITS", uint256(0)));
        cfg.scoreScaleBits = uint8(vm.envOr("ZKGUARD_SCORE_SCALE_BITS", uint256(0)));
        cfg.proofCount = vm.envOr("ZKGUARD_PROOF_COUNT", uint256(1));
        cfg.accumulatorLimbs = vm.envOr(
            "ZKGUARD_ACCUMULATOR_LIMBS", cfg.proofCount == 1 ? uint256(0) : InstanceLayout.ACCUMULATOR_LIMBS
        );
        cfg.modelId = vm.envOr("ZKGUARD_MODEL_ID", uint256(1));
        cfg.action = vm.envOr("ZKGUARD_ACTION", string("breaker"));
        cfg.maxAge = uint32(vm.envOr("ZKGUARD_MAX_AGE", uint256(1 hours)));
        cfg.minFlagged = uint32(vm.envOr("ZKGUARD_MIN_FLAGGED", uint256(1)));
        cfg.useScoreThreshold = vm.envOr("ZKGUARD_USE_SCORE_THRESHOLD", false);
        cfg.scoreThreshold = vm.envOr("ZKGUARD_SCORE_THRESHOLD", int256(0));
    }

    /// @notice Reads creation bytecode from a hex file or a forge artifact JSON.
    /// @param path Path from the project root.
    /// @return The creation bytecode.
    function readCreationCode(string memory path) public view returns (bytes memory) {
        string memory full = string.concat(vm.projectRoot(), "/", path);
        string memory text = vm.readFile(full);
        bytes memory p = bytes(path);
        bool isJson = p.length >= 5 && p[p.length - 5] == "." && p[p.length - 4] == "j"
            && p[p.length - 3] == "s" && p[p.length - 2] == "o" && p[p.length - 1] == "n";
        if (isJson) return vm.parseJsonBytes(text, ".bytecode.object");
        return vm.parseBytes(vm.trim(text));
    }

    /// @notice Deploys and wires everything; calls are made by `deployer` (the broadcaster).
    /// @param cfg The configuration (cfg.owner must be set).
    /// @param deployer The account making the calls (initial owner while wiring).
    /// @return d The deployed addresses.
    function deploy(Config memory cfg, address deployer) public returns (Deployment memory d) {
        d.registry = new ModelRegistry(deployer);
        d.guard = new Guard(d.registry);
        d.breaker = new CircuitBreaker(address(d.guard), deployer);
        d.filter = new VerdictFilter(address(d.guard), deployer, cfg.verdictTtl);
        d.vault = new ProtectedVault(cfg.owner, address(d.breaker));
        d.token = new FilteredToken(d.filter, cfg.owner, cfg.tokenSupply);

        if (cfg.verifierCreationCode.length != 0) {
            bytes memory code = cfg.verifierCreationCode;
            address generated;
            assembly {
                generated := create(0, add(code, 0x20), mload(code))
            }
            if (generated == address(0)) revert VerifierDeploymentFailed();
            d.generatedVerifier = generated;
            d.verifier = new ZkGuardVerifier(
                generated,
                cfg.circuitDigest,
                InstanceLayout.appInstanceCount(cfg.batchSize, cfg.scoreBits),
                cfg.proofCount,
                cfg.accumulatorLimbs,
                cfg.proofLength
            );
            d.registry
                .registerModel(
                    cfg.modelId,
                    ModelConfig(
                        cfg.modelCommitment,
                        cfg.circuitDigest,
                        d.verifier,
                        cfg.batchSize,
                        cfg.scoreBits,
                        cfg.scoreScaleBits
                    ),
                    Policy(
                        _action(cfg.action, d),
                        cfg.maxAge,
                        cfg.minFlagged,
                        cfg.useScoreThreshold,
                        cfg.scoreThreshold
                    ),
                    cfg.inputPolicy
                );
            d.breaker.setTarget(cfg.modelId, address(d.vault), TargetKind.PausableRole);
        }

        if (cfg.owner != deployer) {
            d.registry.transferOwnership(cfg.owner);
            d.breaker.transferOwnership(cfg.owner);
            d.filter.transferOwnership(cfg.owner);
        }
    }

    /// @notice Writes `contracts/deployments/<chainid>.json`.
    /// @param cfg The configuration used.
    /// @param d The deployed addresses.
    /// @param deployer The broadcaster.
    function writeDeployment(Config memory cfg, Deployment memory d, address deployer) public {
        string memory dir = string.concat(vm.projectRoot(), "/contracts/deployments");
        if (!vm.exists(dir)) vm.createDir(dir, true);
        string memory k = "deployment";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeAddress(k, "deployer", deployer);
        vm.serializeAddress(k, "owner", cfg.owner);
        vm.serializeAddress(k, "modelRegistry", address(d.registry));
        vm.serializeAddress(k, "guard", address(d.guard));
        vm.serializeAddress(k, "circuitBreaker", address(d.breaker));
        vm.serializeAddress(k, "verdictFilter", address(d.filter));
        vm.serializeAddress(k, "protectedVault", address(d.vault));
        vm.serializeAddress(k, "filteredToken", address(d.token));
        vm.serializeAddress(k, "generatedVerifier", d.generatedVerifier);
        vm.serializeAddress(k, "verifier", address(d.verifier));
        vm.serializeBytes32(k, "circuitDigest", cfg.circuitDigest);
        string memory json =
            vm.serializeUint(k, "modelId", cfg.verifierCreationCode.length == 0 ? 0 : cfg.modelId);
        vm.writeJson(json, string.concat(dir, "/", vm.toString(block.chainid), ".json"));
    }

    function _inputMode(string memory name) private pure returns (InputMode) {
        bytes32 h = keccak256(bytes(name));
        if (h == keccak256("attested")) return InputMode.Attested;
        if (h == keccak256("submitters")) return InputMode.Submitters;
        if (h == keccak256("open")) return InputMode.Open;
        revert UnknownInputPolicy(name);
    }

    function _action(string memory name, Deployment memory d) private pure returns (IGuardAction) {
        bytes32 h = keccak256(bytes(name));
        if (h == keccak256("breaker")) return d.breaker;
        if (h == keccak256("filter")) return d.filter;
        if (h == keccak256("none")) return IGuardAction(address(0));
        revert UnknownAction(name);
    }
}
