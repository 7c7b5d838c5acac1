; JavaScript (also JSX) tags.
; Classes, functions, methods; functions assigned to variables, properties and object keys;
; upper-case top-level constants; imports (`import`, `export ... from`, `require()`, `import()`).

; Classes (declarations and named class expressions).
(class_declaration name: (identifier) @name) @definition.class
(class name: (identifier) @name) @definition.class

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

; Function declarations.
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function

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
