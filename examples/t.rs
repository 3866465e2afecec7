fn main() {
    let p = std::env::args().nth(1).unwrap();
    let s = match kafkasim::scenario::Scenario::from_file(&p) {
        Ok(s) => s,
        Err(e) => {
            print!("{e}");
            return;
        }
    };
    let r = kafkasim::simulation::run(&s, &Default::default());
    print!("{}", r.trace.unwrap());
    println!("events {} end {}", r.events, r.end);
}
