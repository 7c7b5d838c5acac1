; JavaScript (also JSX) tags.
; Classes, functions, methods; functions assigned to variables, properties and object keys;
; upper-case top-level constants; imports (`import`, `export ... from`, `require()`, `import()`).

; Classes (declarations and named class expressions).
(class_declaration name: (identifier) @name) @definition.class
(class name: (identifier) @name) @definition.class
; `var Store = class extends Base {}`, as bundlers (esbuild, Rollup) emit classes: named by its
; variable.
(variable_declarator name: (identifier) @name value: (class !name)) @definition.class

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
; Class fields holding a function: `handleClick = () => {...}`.
(class_body
  (field_definition
    property: [(property_identifier) (private_property_identifier)] @name
    value: [(arrow_function) (function_expression)]) @definition.method)

; include: _ecmascript.scm

; `exports.f = function () {}`, `var f; f = function () {}`.
(assignment_expression
  left: [(member_expression property: (property_identifier) @name) (identifier) @name]
  right: [(arrow_function) (function_expression) (generator_function)]
  (#not-eq? @name "exports")) @definition.function

; Top-level constants written in upper case: `const MAX_RETRIES = 3`.
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

; Imports: `import x from "m"`, `import "m"`, `export * from "m"`.
(import_statement source: (string) @import.module)
(export_statement source: (string) @import.module)
; `require("m")` and dynamic `import("m")`.
(call_expression
  function: (identifier) @_function
  arguments: (arguments . (string) @import.module .)
  (#eq? @_function "require"))
(call_expression
  function: (import)
  arguments: (arguments . (string) @import.module))
