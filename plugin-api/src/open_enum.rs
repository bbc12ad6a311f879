//! Enums that can gain variants: a `#[repr(transparent)]` integer with the
//! known values as associated constants (abi_stable's field-less
//! non-exhaustive enum). A value from a newer plugin or host that this
//! version does not know stays representable; every `match` on one needs a
//! fallback arm, and [`open_enum!`] gives each type `is_known` and a name
//! (`"unknown"`) for what it cannot name.

/// Declares an open enum. Variants keep CamelCase names so that
/// `Kind::Variant` reads like an enum variant in expressions and patterns.
#[macro_export]
#[doc(hidden)]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[repr(transparent)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, abi_stable::StableAbi)]
        pub struct $name($repr);

        #[allow(non_upper_case_globals)]
        impl $name {
            $( $(#[$vmeta])* pub const $variant: $name = $name($value); )+

            /// Every value this version of the ABI knows, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value with this raw number, known or not.
            pub const fn from_raw(raw: $repr) -> Self {
                $name(raw)
            }

            /// The raw number that crosses the boundary.
            pub const fn raw(self) -> $repr {
                self.0
            }

            /// Whether this version of the ABI knows the value.
            pub fn is_known(self) -> bool {
                Self::KNOWN.contains(&self)
            }

            /// A short lower-case name for logs, metrics labels and
            /// configuration; `"unknown"` for a value this version does not know.
            pub fn as_str(self) -> &'static str {
                match self.0 {
                    $( $value => $text, )+
                    _ => "unknown",
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.0 {
                    $( $value => f.write_str(stringify!($variant)), )+
                    raw => write!(f, "{}({raw})", stringify!($name)),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.0 {
                    $( $value => f.write_str($text), )+
                    raw => write!(f, "unknown {} {raw}", stringify!($name)),
                }
            }
        }
    };
}
