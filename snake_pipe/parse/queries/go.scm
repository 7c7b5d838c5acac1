; Go tags.
; Package clause, functions, methods (scope: their receiver's type), structs, interfaces
; and their methods, other named types and type
; aliases, package-level constants and variables; imports.
; Alternatives are mutually exclusive: which of two matches on one node comes first is not
; guaranteed.

(package_clause (package_identifier) @name) @definition.namespace

(function_declaration name: (identifier) @name) @definition.function
; A method's scope is its receiver's type (@_qualified): `func (s *Server[T]) Close()`, Server.
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @_qualified
        (pointer_type (type_identifier) @_qualified)
        (generic_type type: (type_identifier) @_qualified)
        (pointer_type (generic_type type: (type_identifier) @_qualified))
      ]))
  name: (field_identifier) @name) @definition.method
(method_declaration name: (field_identifier) @name) @definition.method

(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec
  name: (type_identifier) @name
  type: [
    (type_identifier) (generic_type) (qualified_type) (pointer_type) (array_type) (slice_type)
    (map_type) (channel_type) (function_type) (negated_type) (parenthesized_type)
  ]) @definition.type
(type_alias name: (type_identifier) @name) @definition.type

; Methods listed by a named interface (not those of an anonymous `interface{ M() }` type).
(type_spec type: (interface_type (method_elem name: (field_identifier) @name) @definition.method))

; Package-level `const` and `var` (not those inside functions).
; The grammar's `name:` field misses a const_spec's second name (`A, B = 1, 2`); its only
; direct identifiers are its names (the type and the values are other nodes).
(source_file
  (const_declaration (const_spec (identifier) @name) @definition.constant))
(source_file
  (var_declaration (var_spec name: (identifier) @name) @definition.variable))
(source_file
  (var_declaration (var_spec_list (var_spec name: (identifier) @name) @definition.variable)))

; Imports: every import spec's path, aliased, blank (`_`) and dot imports included.
(import_spec path: (_) @import.module)
