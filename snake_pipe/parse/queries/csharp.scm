; C# tags.
; Namespaces (block and file-scoped), classes, records, interfaces, structs, enums, delegates,
; methods, constructors, properties, local functions and `const` fields; `using` directives.
; Not captured: destructors, operators, indexers, events and ordinary fields. A definition
; starts at its first line after its attributes (tags.py skips them).

(namespace_declaration name: (_) @name) @definition.namespace
(file_scoped_namespace_declaration name: (_) @name) @definition.namespace

(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(struct_declaration name: (identifier) @name) @definition.struct
(enum_declaration name: (identifier) @name) @definition.enum
(delegate_declaration name: (identifier) @name) @definition.type

(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.constructor
(property_declaration name: (identifier) @name) @definition.property
(local_function_statement name: (identifier) @name) @definition.function

; `public const int MaxItems = 50;`
(field_declaration
  (modifier) @_const
  (variable_declaration (variable_declarator name: (identifier) @name) @definition.constant)
  (#eq? @_const "const"))

; Imports: `using System.Text;`, `using static System.Math;`, `global using X;` -> the
; namespace or type; `using Json = Newtonsoft.Json;` -> "Newtonsoft.Json".
(using_directive !name [(identifier) (qualified_name) (generic_name)] @import.module)
(using_directive name: (_) "=" (_) @import.module)
