; TypeScript tags (also for TSX).
; Classes, interfaces, type aliases, enums, namespaces, functions, methods (also abstract and
; interface method signatures); functions assigned to variables, properties and object keys;
; upper-case top-level constants; imports (`import`, `import x = require()`,
; `export ... from`, `require()`, `import()`).

; Classes (declarations, abstract classes and named class expressions).
(class_declaration name: (type_identifier) @name) @definition.class
(abstract_class_declaration name: (type_identifier) @name) @definition.class
(class name: (type_identifier) @name) @definition.class
; `var Store = class extends Base {}`, as bundlers (esbuild, Rollup) emit classes: named by its
; variable.
(variable_declarator name: (identifier) @name value: (class !name)) @definition.class

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

; include: _ecmascript.scm

; Overload signatures and `declare function`.
(function_signature name: (identifier) @name) @definition.function

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
