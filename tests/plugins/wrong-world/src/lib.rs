//! Test fixture: a well-formed WebAssembly component that is not an optionhub plugin.
//!
//! It implements `acme:other/greeter` (its own WIT, in `wit/world.wit`), a world from a
//! different WIT package that exports a single `greet` function and none of optionhub's
//! `meta`, `greeks`, `oi`, `strategy` or `custom` interfaces. The component validates
//! and instantiates fine, so the host's loader must recognise it by its exports and
//! reject it as "not an optionhub analytics plugin" rather than fail later or crash.

// Only a component makes sense of this crate; natively its export names cannot even link.
#![cfg(target_arch = "wasm32")]
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "wit", world: "greeter" });

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello, {name}")
    }
}

export!(Greeter);
