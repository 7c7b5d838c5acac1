; Kotlin tags.
; Package, classes (also data/sealed/annotation classes), interfaces, enum classes, objects,
; functions (methods in classes, objects and companion objects; extension functions at top
; level are functions), secondary constructors (named `constructor`), type aliases,
; properties at top level and in objects/companion objects (`const val` -> constant);
; imports.
; Not captured: properties of classes and interfaces, primary constructors, enum entries.
; A definition starts at its first line after its annotations (tags.py skips them).
; Alternatives are mutually exclusive: which of two matches on one node comes first is not
; guaranteed. (`"enum"? @_enum ... (#not-eq? @_enum "enum")` matches classes that are no
; enum class: an optional node present in the tree is always consumed.)

(package_header (identifier) @name) @definition.namespace

(class_declaration "interface" (type_identifier) @name) @definition.interface
(class_declaration "enum" "class" (type_identifier) @name) @definition.enum
(class_declaration
  "enum"? @_enum
  "class"
  (type_identifier) @name
  (#not-eq? @_enum "enum")) @definition.class
(object_declaration (type_identifier) @name) @definition.class
(companion_object (type_identifier) @name) @scope.object

(function_declaration (simple_identifier) @name) @definition.function
(secondary_constructor "constructor" @name) @definition.constructor
(type_alias (type_identifier) @name) @definition.type

; Properties at top level and in objects: `const val MAX = 3` is a constant, any other
; `val`/`var` a property.
(source_file
  (property_declaration
    (_ (property_modifier))
    (variable_declaration (simple_identifier) @name)) @definition.constant)
(source_file
  (property_declaration
    (modifiers)? @_modifiers
    (variable_declaration (simple_identifier) @name)
    (#not-match? @_modifiers "(^|\\s)const(\\s|$)")) @definition.property)
(object_declaration
  (_
    (property_declaration
      (_ (property_modifier))
      (variable_declaration (simple_identifier) @name)) @definition.constant))
(object_declaration
  (_
    (property_declaration
      (modifiers)? @_modifiers
      (variable_declaration (simple_identifier) @name)
      (#not-match? @_modifiers "(^|\\s)const(\\s|$)")) @definition.property))
(companion_object
  (_
    (property_declaration
      (_ (property_modifier))
      (variable_declaration (simple_identifier) @name)) @definition.constant))
(companion_object
  (_
    (property_declaration
      (modifiers)? @_modifiers
      (variable_declaration (simple_identifier) @name)
      (#not-match? @_modifiers "(^|\\s)const(\\s|$)")) @definition.property))

; Imports: `import a.b.C` -> "a.b.C", `import a.b.*` -> "a.b", `import a.b.C as D` -> "a.b.C".
(import_header (identifier) @import.module)
