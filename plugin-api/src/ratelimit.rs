//! The `RateLimitPolicy` interface: who may make how many requests.
//! Asynchronous so that a policy can keep its buckets in Redis.

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RString, RVec},
};
use async_ffi::FfiFuture;

use crate::PluginResult;

crate::extension_trait! {
    /// Fields [`OperatorLimits`] gains after 3.0.
    OperatorLimitsExt, OperatorLimitsExt_TO, OperatorLimitsExtension
}

/// A sustained rate and a burst allowance.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, StableAbi)]
pub struct OperatorLimits {
    /// Requests per second, sustained.
    pub rps: f64,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
    /// Fields added after 3.0.
    pub ext: OperatorLimitsExtension,
}

impl OperatorLimits {
    /// Limits of `rps` sustained and `burst` at once.
    pub fn new(rps: f64, burst: u32) -> Self {
        OperatorLimits {
            rps,
            burst,
            ext: Default::default(),
        }
    }
}

crate::extension_trait! {
    /// Fields [`OperatorOverride`] gains after 3.0.
    OperatorOverrideExt, OperatorOverrideExt_TO, OperatorOverrideExtension
}

/// The limits that apply to one operator because an admin set them.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, StableAbi)]
pub struct OperatorOverride {
    /// Operator id (API key or JWT subject, enode id, or IP).
    pub operator: RString,
    /// Its limits.
    pub limits: OperatorLimits,
    /// Fields added after 3.0.
    pub ext: OperatorOverrideExtension,
}

crate::extension_trait! {
    /// Fields [`RateDecision`] gains after 3.0.
    RateDecisionExt, RateDecisionExt_TO, RateDecisionExtension
}

/// Whether a request may go ahead.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, StableAbi)]
pub struct RateDecision {
    /// Go ahead.
    pub allowed: bool,
    /// When denied, how long until the request would be allowed.
    pub retry_after_ms: u64,
    /// The limits that applied.
    pub limits: OperatorLimits,
    /// Fields added after 3.0.
    pub ext: RateDecisionExtension,
}

/// A rate-limit policy. A minor version may add methods after `shutdown`,
/// each with a default body.
#[sabi_trait]
pub trait RateLimitPolicy: Send + Sync {
    /// Charges `cost` to `operator` at time `now_ms` (milliseconds since the
    /// Unix epoch, passed in so every instance agrees) and decides.
    fn check(
        &self,
        operator: RString,
        cost: u32,
        now_ms: u64,
    ) -> FfiFuture<PluginResult<RateDecision>>;

    /// Sets (`Some`) or removes (`None`) an operator's own limits, at once.
    fn set_limits(
        &self,
        operator: RString,
        limits: ROption<OperatorLimits>,
    ) -> FfiFuture<PluginResult<()>>;

    /// Every operator override in force.
    fn overrides(&self) -> FfiFuture<PluginResult<RVec<OperatorOverride>>>;

    /// Stops background work.
    #[sabi(last_prefix_field)]
    fn shutdown(&self) -> FfiFuture<PluginResult<()>>;
}

/// An owned rate-limit plugin instance.
pub type RateLimitBox = RateLimitPolicy_TO<'static, RBox<()>>;
