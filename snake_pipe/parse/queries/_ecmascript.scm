; Definitions JavaScript and TypeScript share, spliced into javascript.scm and typescript.scm
; where they say `; include: _ecmascript.scm` (a file starting with `_` is no language's).

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

; SWC's CommonJS re-exports every name as a getter, `_export(exports, {get f () {return f;}})`.
(call_expression
  function: (identifier) @_export
  arguments: (_ (object (method_definition name: (_) @name) @ignore))
  (#eq? @_export "_export"))
; A compiler's helper that replaces itself on its first call is defined once: Babel's lazy
; `function _fs() { const data = require("fs"); _fs = function () { return data; }; ... }`
; and `function _interopRequireWildcard(e) { ...; return (_interopRequireWildcard = function
; (e) {...})(e); }`.
; (Node types spelled out, a statement of each form: wildcards here, or one more form, cost a
; quarter of JavaScript's query time.)
(function_declaration
  name: (identifier) @_helper
  body: (statement_block
    [
      (expression_statement
        (assignment_expression left: (identifier) @name right: (function_expression)) @ignore)
      (return_statement
        (call_expression function: (parenthesized_expression (assignment_expression
          left: (identifier) @name right: (function_expression)) @ignore)))
    ])
  (#eq? @name @_helper))

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
