; Java tags.
; Package, classes, interfaces, enums, records, annotation types, methods (and an annotation
; type's elements, `String value() default "";`), constructors and upper-case constant fields;
; imports; a module-info.java's module and the modules it `requires` (as imports).
; A definition starts at its first line after its annotations (tags.py skips them), as
; Python's starts after its decorators; it ends with its body.

(package_declaration [(identifier) (scoped_identifier)] @name) @definition.namespace
(module_declaration name: [(identifier) (scoped_identifier)] @name) @definition.module

(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(annotation_type_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum

(method_declaration name: (identifier) @name) @definition.method
(annotation_type_element_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.constructor
(compact_constructor_declaration name: (identifier) @name) @definition.constructor

; Constants: `static final int MAX_SIZE = 10;` and interface constants, named in upper case
; (a field that is not both static and final is a field, whatever its name).
(field_declaration
  (modifiers) @_modifiers
  declarator: (variable_declarator name: (identifier) @name) @definition.constant
  (#match? @_modifiers "(^|[ \n])static([ \n]|$)")
  (#match? @_modifiers "(^|[ \n])final([ \n]|$)")
  (#match? @name "^[A-Z][A-Z0-9_]*$"))
(constant_declaration
  declarator: (variable_declarator name: (identifier) @name) @definition.constant
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

; Imports: `import a.b.C;`, `import a.b.*;` (-> "a.b"), `import static a.b.C.m;`.
(import_declaration [(identifier) (scoped_identifier)] @import.module)
(requires_module_directive module: [(identifier) (scoped_identifier)] @import.module)
