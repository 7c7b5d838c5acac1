; Bash / shell tags.
; Functions (both `f() {}` and `function f {}` forms; nested ones get the enclosing function
; as scope) and constants: upper-case variables assigned at the top level of the script,
; plainly or through `readonly`/`declare`/`export`/`typeset`; `source`/`.` paths as imports
; (the first argument as written, variables unexpanded: `. "$HOME/x.sh"` -> "$HOME/x.sh",
; `. $file` -> "$file").

(function_definition name: (word) @name) @definition.function

(program
  (variable_assignment name: (variable_name) @name) @definition.constant
  (#match? @name "^[A-Z][A-Z0-9_]*$"))
(program
  (declaration_command
    (variable_assignment name: (variable_name) @name) @definition.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))
; `A=1 B=2` on one line
(program
  (variable_assignments
    (variable_assignment name: (variable_name) @name) @definition.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

(command
  name: (command_name (word) @_command)
  .
  argument: [
    (word) (string) (raw_string) (concatenation) (simple_expansion) (expansion)
  ] @import.module
  (#any-of? @_command "source" "."))
