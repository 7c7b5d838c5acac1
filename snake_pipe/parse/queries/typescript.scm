; TypeScript tags (typescript.scm and tsx.scm are the same file: keep them identical).
; Classes, interfaces, type aliases, enums, namespaces, functions, methods (also abstract and
; interface method signatures); functions assigned to variables, properties and object keys;
; upper-case top-level constants; imports (`import`, `import x = require()`,
; `export ... from`, `require()`, `import()`).

; Classes (declarations, abstract classes and named class expressions).
(class_declaration name: (type_identifier) @name) @definition.class
(abstract_class_declaration name: (type_identifier) @name) @definition.class
(class name: (type_identifier) @name) @definition.class

(interface_declaration name: (type_identifier) @name) @definition.interface
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum

; `namespace Foo {}` and `declare module "foo" {}` / `module Foo {}`.
(internal_module name: [(identifier) (nested_identifier)] @name) @definition.namespace
(module name: [(identifier) (nested_identifier)] @name) @definition.module
(module name: (string) @name) @definition.module

; Methods in class bodies; `constructor` is a constructor.
(class_body
  (method_definition
    name: (property_identifier) @name) @definition.constructor
  (#eq? @name "constructor"))
(class_body
  (method_definition
    name: [(property_identifier) (private_property_identifier) (computed_property_name)] @name)
    @definition.method
  (#not-eq? @name "constructor"))
(class_body
  (abstract_method_signature
    name: [(property_identifier) (private_property_identifier)] @name) @definition.method)
; Overload signatures in classes: `save(x: string): void;`, `constructor(x: T);`.
(class_body
  (method_signature
    name: (property_identifier) @name) @definition.constructor
  (#eq? @name "constructor"))
(class_body
  (method_signature
    name: [(property_identifier) (private_property_identifier)] @name) @definition.method
  (#not-eq? @name "constructor"))
; Class fields holding a function: `private handle = (e: Error) => {...}`.
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function) (function_expression)]) @definition.method
; Methods declared by interfaces.
(interface_body
  (method_signature name: (property_identifier) @name) @definition.method)

; The accessors of a property descriptor are no definitions: compiled CommonJS re-exports
; every name as `Object.defineProperty(exports, "x", {enumerable: true, get: function () {}})`.
; Matched first, they take the key from the patterns below (`@ignore`: no symbol, no scope):
; `get`, `set` and `value` given to `defineProperty`, and one level deeper to
; `defineProperties` and `Object.create` (a map of descriptors), also as shorthand methods.
(call_expression
  function: (member_expression property: (property_identifier) @_define)
  arguments: (arguments
    (object
      [
        (pair key: (property_identifier) @name value: [(arrow_function) (function_expression)])
        (method_definition name: (property_identifier) @name)
      ] @ignore))
  (#eq? @_define "defineProperty")
  (#any-of? @name "get" "set" "value"))
(call_expression
  function: (member_expression property: (property_identifier) @_define)
  arguments: (arguments
    (object
      (pair
        value: (object
          [
            (pair key: (property_identifier) @name value: [(arrow_function) (function_expression)])
            (method_definition name: (property_identifier) @name)
          ] @ignore))))
  (#any-of? @_define "defineProperties" "create")
  (#any-of? @name "get" "set" "value"))
; (A descriptor kept in a variable, `{enumerable: true, get: ...}`: its first two keys, anchored,
; since two free siblings make a query's work grow with the square of an object's size.)
(object
  .
  (pair key: (property_identifier) @_flag)
  .
  (pair
    key: (property_identifier) @name
    value: [(arrow_function) (function_expression)]) @ignore
  (#any-of? @_flag "enumerable" "configurable")
  (#any-of? @name "get" "set"))

; `View.prototype = {lookup() {}, find: function () {}}`: methods of `View`, as below.
(assignment_expression
  left: (member_expression
    object: [(identifier) @_qualified (member_expression property: (property_identifier) @_qualified)]
    property: (property_identifier) @_prototype)
  right: (object
    [
      (pair key: (property_identifier) @name value: [(arrow_function) (function_expression)])
      (method_definition name: (property_identifier) @name)
    ] @definition.method)
  (#eq? @_prototype "prototype"))

; Shorthand methods and function-valued keys of object literals.
(object
  (method_definition name: [(property_identifier) (computed_property_name)] @name)
    @definition.function)
(object
  (method_definition name: (string) @name) @definition.function)
(pair
  key: [(property_identifier) @name (string) @name]
  value: [(arrow_function) (function_expression)]) @definition.function

; Function declarations, overload signatures and `declare function`.
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(function_signature name: (identifier) @name) @definition.function

; `const f = () => {}`, `let g = function () {}`, `var h = (function h() {})`.
(variable_declarator
  name: (identifier) @name
  value: [
    (arrow_function) (function_expression) (generator_function)
    (parenthesized_expression [(arrow_function) (function_expression)])
  ]) @definition.function

; `View.prototype.lookup = function lookup() {}`, also `ns.View.prototype.lookup = ...`: a
; method of `View` (@_qualified adds it).
(assignment_expression
  left: (member_expression
    object: (member_expression
      object: [(identifier) @_qualified (member_expression property: (property_identifier) @_qualified)]
      property: (property_identifier) @_prototype)
    property: (property_identifier) @name)
  right: [(arrow_function) (function_expression) (generator_function)]
  (#eq? @_prototype "prototype")) @definition.method
; `exports.f = function () {}`.
(assignment_expression
  left: [(_ property: (property_identifier) @name) (identifier) @name]
  right: [(arrow_function) (function_expression) (generator_function)]
  (#not-eq? @name "exports")) @definition.function

; Declarations of a .d.ts: `declare const f: (x: T) => U` (what tsc emits for an exported
; arrow function) is a function, like `declare function f(x: T): U`; `declare const MAX: number`
; in upper case a constant.
(ambient_declaration
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      type: (type_annotation (function_type))) @definition.function))
(ambient_declaration
  (lexical_declaration
    kind: "const"
    (variable_declarator name: (identifier) @name) @definition.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

; Top-level constants written in upper case: `export const MAX_RETRIES = 3`.
(program
  (lexical_declaration
    kind: "const"
    (variable_declarator name: (identifier) @name) @definition.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))
(program
  (export_statement
    declaration: (lexical_declaration
      kind: "const"
      (variable_declarator name: (identifier) @name) @definition.constant))
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

; Imports: `import x from "m"`, `import type {T} from "m"`, `import "m"`, `export * from "m"`,
; `import fs = require("fs")`.
(import_statement source: (string) @import.module)
(import_require_clause source: (string) @import.module)
(export_statement source: (string) @import.module)
; `require("m")` and dynamic `import("m")`.
(call_expression
  function: (identifier) @_function
  arguments: (_ . (string) @import.module .)
  (#eq? @_function "require"))
(call_expression
  function: (import)
  arguments: (_ . (string) @import.module))
