; Scala tags (Scala 2 and 3).
; Packages, classes, traits, objects and package objects (as classes), enums, functions
; (methods in classes, traits, objects and enums; `def this` is a constructor), abstract
; `def` declarations, type definitions, `val`s of objects and the top level (upper-case
; names -> constant, others -> property), their `var`s (properties); imports. A Scala 3 end
; marker (`end Name`) is part of its definition.
; Not captured: `given` instances, enum cases, class parameters, vals and vars of classes and
; traits.
; Alternatives are mutually exclusive: which of two matches on one node comes first is not
; guaranteed.

(package_clause name: (package_identifier) @name) @definition.namespace

(class_definition name: (identifier) @name) @definition.class
(trait_definition name: (identifier) @name) @definition.trait
(object_definition name: (identifier) @name) @definition.class
(package_object name: (identifier) @name) @definition.class
(enum_definition name: (identifier) @name) @definition.enum
(type_definition name: (type_identifier) @name) @definition.type

(function_definition
  name: (identifier) @name
  (#eq? @name "this")) @definition.constructor
(function_definition
  name: (_) @name
  (#not-eq? @name "this")) @definition.function
(function_declaration name: (_) @name) @definition.function

; `var`s of objects and of the top level are properties, whatever their case.
(compilation_unit (var_definition pattern: (identifier) @name) @definition.property)
(object_definition
  body: (template_body (var_definition pattern: (identifier) @name) @definition.property))
(package_object
  body: (template_body (var_definition pattern: (identifier) @name) @definition.property))

; `val`s of objects and of the top level: `val MaxItems = 100` is a constant.
(compilation_unit
  (val_definition pattern: (identifier) @name) @definition.constant
  (#match? @name "^[A-Z]"))
(compilation_unit
  (val_definition pattern: (identifier) @name) @definition.property
  (#not-match? @name "^[A-Z]"))
(object_definition
  body: (template_body
    (val_definition pattern: (identifier) @name) @definition.constant)
  (#match? @name "^[A-Z]"))
(object_definition
  body: (template_body
    (val_definition pattern: (identifier) @name) @definition.property)
  (#not-match? @name "^[A-Z]"))
(package_object
  body: (template_body
    (val_definition pattern: (identifier) @name) @definition.constant)
  (#match? @name "^[A-Z]"))
(package_object
  body: (template_body
    (val_definition pattern: (identifier) @name) @definition.property)
  (#not-match? @name "^[A-Z]"))

; Imports. The grammar has no node for an import's dotted path (`path:` is a series of
; identifiers and dots); the quantified capture makes one import spanning them:
; `import scala.util.Try` -> "scala.util.Try", `import a.b, c.d` -> "a.b" and "c.d",
; `import scala.concurrent.{A, B}` -> "scala.concurrent" (selectors are not listed).
(import_declaration path: _+ @import.module)
