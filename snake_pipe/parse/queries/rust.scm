; Rust tags.
; Structs, enums, unions, traits, type aliases (and associated types), modules, functions
; (methods inside `impl` and `trait` blocks), consts, statics and `macro_rules!` macros;
; `impl` blocks name the scope of their items after the implementing type (`impl<T> Trait
; for Foo<T>` -> scope `Foo`). Alternatives are mutually exclusive: which of two matches on
; one node comes first is not guaranteed.

(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.union
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(associated_type name: (type_identifier) @name) @definition.type
(mod_item name: (identifier) @name) @definition.module

(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function

(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.variable
(macro_definition name: (identifier) @name) @definition.macro

; impl blocks: scope named after the implementing type, without generics or path.
(impl_item type: (type_identifier) @name) @scope.impl
(impl_item type: (scoped_type_identifier name: (type_identifier) @name)) @scope.impl
(impl_item type: (generic_type type: (type_identifier) @name)) @scope.impl
(impl_item
  type: (generic_type type: (scoped_type_identifier name: (type_identifier) @name))) @scope.impl
; `impl Trait for &'a mut foo::Foo<T>` -> scope `Foo`.
(impl_item type: (reference_type type: (type_identifier) @name)) @scope.impl
(impl_item
  type: (reference_type type: (scoped_type_identifier name: (type_identifier) @name))) @scope.impl
(impl_item type: (reference_type type: (generic_type type: (type_identifier) @name))) @scope.impl
(impl_item
  type: (reference_type
    type: (generic_type
      type: (scoped_type_identifier name: (type_identifier) @name)))) @scope.impl
; `impl dyn Error + Send` and `impl Display for dyn Expected + 'a` -> scopes `Error`, `Expected`.
(impl_item type: (dynamic_type trait: [
  (type_identifier) @name (scoped_type_identifier name: (type_identifier) @name)])) @scope.impl
(impl_item type: (bounded_type . (dynamic_type trait: [
  (type_identifier) @name (scoped_type_identifier name: (type_identifier) @name)]))) @scope.impl
; Anything else is named by its text, without the reference: `impl Trait for [T]` and
; `impl Trait for &str` -> scopes `[T]` and `str`.
(impl_item
  type: (reference_type
    type: [
      (primitive_type) (reference_type) (pointer_type) (array_type) (tuple_type) (unit_type)
      (dynamic_type) (abstract_type) (bounded_type) (function_type) (never_type)
      (macro_invocation) (metavariable)
    ] @name)) @scope.impl
(impl_item
  type: [
    (primitive_type) (pointer_type) (array_type) (tuple_type) (unit_type)
    (dynamic_type) (abstract_type) (bounded_type) (function_type) (never_type)
    (macro_invocation) (metavariable)
  ] @name) @scope.impl

; A macro call among items (`cfg_if! {...}`, tokio's `cfg_rt! {...}`, libc's `s! {...}`):
; the grammar leaves its body as tokens; it is read again as items, and what is defined or
; imported there counts (tags.py, @items). Inside such a body, also a call in a block (a
; `cfg_if!` in a branch of a `cfg_if!`); not in a function's body (`quote! {...}`).
(source_file (macro_invocation (token_tree) @items))
(declaration_list (macro_invocation (token_tree) @items))
(block (macro_invocation (token_tree) @items.nested))

; Imports. `use a::b::C;` -> "a::b::C"; `use a::b::C as D;` -> "a::b::C";
; `use a::b::*;` -> "a::b"; `use a::b::{c, d::E};` -> "a::b" (the path before the braces;
; the items inside the braces are not listed); `extern crate serde;` -> "serde".
(use_declaration
  argument: [(identifier) (scoped_identifier) (crate) (super) (self)] @import.module)
(use_declaration argument: (use_as_clause path: (_) @import.module))
(use_declaration
  argument: (use_wildcard [(identifier) (scoped_identifier) (crate) (super) (self)] @import.module))
(use_declaration argument: (scoped_use_list path: (_) @import.module))
(extern_crate_declaration name: (identifier) @import.module)
